"""Settings.load: command line over environment over TOML file over defaults, field by field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from simulator import create_app
from simulator.settings import DEFAULT_FIXTURES, Settings, SettingsError


@pytest.fixture
def toml_file(tmp_path: Path):
    """Writes a TOML settings file and returns its path."""

    def write(text: str) -> Path:
        path = tmp_path / "hashkey-sim.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


FILE_SETS_PORT_HOST_DB = 'port = 7000\nhost = "10.1.1.1"\ndb = "sqlite:///from-file.db"\n'


# ---------------------------------------------------------------------------- precedence


def test_defaults_when_no_source_sets_anything():
    settings = Settings.load(cli={}, env={})

    assert settings == Settings()
    assert (settings.db, settings.host, settings.port, settings.admin_token) == (
        "sqlite:///hashkey-sim.db",
        "127.0.0.1",
        8000,
        None,
    )
    assert (settings.clock_mode, settings.clock_speed, settings.rate_limits) == ("live", Decimal(1), True)
    assert (settings.workers, settings.worker_class, settings.threads) == (1, "gevent", 8)
    assert settings.fixtures == str(DEFAULT_FIXTURES)


def test_each_field_comes_from_the_first_source_that_sets_it(toml_file):
    path = toml_file(FILE_SETS_PORT_HOST_DB)

    settings = Settings.load(
        cli={"port": 9000}, env={"HASHKEY_SIM_PORT": "8001", "HASHKEY_SIM_HOST": "0.0.0.0"}, config_file=path
    )

    assert settings.port == 9000  # command line over environment and file
    assert settings.host == "0.0.0.0"  # environment over file
    assert settings.db == "sqlite:///from-file.db"  # file over default
    assert settings.workers == 1  # default


def test_environment_wins_over_the_file(toml_file):
    path = toml_file(FILE_SETS_PORT_HOST_DB)

    settings = Settings.load(env={"HASHKEY_SIM_PORT": "8001"}, config_file=path)

    assert (settings.port, settings.host) == (8001, "10.1.1.1")


def test_file_wins_over_the_defaults(toml_file):
    path = toml_file(FILE_SETS_PORT_HOST_DB)

    settings = Settings.load(env={}, config_file=path)

    assert (settings.port, settings.host, settings.db) == (7000, "10.1.1.1", "sqlite:///from-file.db")


def test_command_line_wins_over_the_environment():
    settings = Settings.load(cli={"db": "sqlite:///cli.db"}, env={"HASHKEY_SIM_DB": "sqlite:///env.db"})

    assert settings.db == "sqlite:///cli.db"


def test_none_command_line_values_do_not_override(toml_file):
    path = toml_file(FILE_SETS_PORT_HOST_DB)

    settings = Settings.load(
        cli={"port": None, "host": None, "db": None, "admin_token": None},
        env={"HASHKEY_SIM_PORT": "8001"},
        config_file=path,
    )

    assert (settings.port, settings.host, settings.db, settings.admin_token) == (
        8001,
        "10.1.1.1",
        "sqlite:///from-file.db",
        None,
    )


def test_environment_variable_names_are_the_prefix_and_the_upper_case_field():
    env = {
        "HASHKEY_SIM_ADMIN_TOKEN": "secret",
        "HASHKEY_SIM_RECV_WINDOW_MAX": "30000",
        "HASHKEY_SIM_TIMESTAMP_CLOCK": "market",
        "HASHKEY_SIM_CLOCK_START": "1700000000000",
        "hashkey_sim_port": "1",  # lower case is not the variable
    }

    settings = Settings.load(env=env)

    assert (
        settings.admin_token,
        settings.recv_window_max,
        settings.timestamp_clock,
        settings.clock_start,
    ) == ("secret", 30000, "market", 1_700_000_000_000)
    assert settings.port == 8000


def test_unrelated_environment_variables_are_ignored():
    settings = Settings.load(env={"PORT": "1", "HOST": "x", "HASHKEY_SIM_UNKNOWN": "y"})

    assert settings == Settings()


def test_process_environment_is_read_when_no_env_is_given(monkeypatch):
    monkeypatch.setenv("HASHKEY_SIM_PORT", "8123")

    assert Settings.load().port == 8123


# ---------------------------------------------------------------------------- the TOML file


def test_file_may_use_a_hashkey_sim_table(toml_file):
    path = toml_file('[hashkey-sim]\nport = 7001\nrate_limits = false\nclock_speed = "0.25"\n')

    settings = Settings.load(env={}, config_file=path)

    assert (settings.port, settings.rate_limits, settings.clock_speed) == (7001, False, Decimal("0.25"))


def test_file_table_ignores_other_tools_tables(toml_file):
    path = toml_file('[hashkey-sim]\nport = 7001\n\n[other-tool]\nport = 1\ncolour = "blue"\n')

    settings = Settings.load(env={}, config_file=path)

    assert settings.port == 7001


def test_file_named_by_hashkey_sim_config(toml_file):
    path = toml_file('admin_token = "from-file"\nport = 7002\n')

    settings = Settings.load(env={"HASHKEY_SIM_CONFIG": str(path)})

    assert (settings.admin_token, settings.port) == ("from-file", 7002)


def test_explicit_file_wins_over_hashkey_sim_config(toml_file, tmp_path):
    named = toml_file("port = 7003\n")
    other = tmp_path / "other.toml"
    other.write_text("port = 7004\n", encoding="utf-8")

    settings = Settings.load(env={"HASHKEY_SIM_CONFIG": str(other)}, config_file=named)

    assert settings.port == 7003


def test_file_values_of_native_toml_types(toml_file):
    path = toml_file("rate_limits = true\nclock_speed = 2\nclock_start = 1700000000000\norder_limit = 5\n")

    settings = Settings.load(env={}, config_file=path)

    assert (settings.rate_limits, settings.clock_speed, settings.clock_start, settings.order_limit) == (
        True,
        Decimal(2),
        1_700_000_000_000,
        5,
    )


# ---------------------------------------------------------------------------- conversions


def test_clock_speed_is_an_exact_decimal():
    settings = Settings.load(env={"HASHKEY_SIM_CLOCK_SPEED": "0.5"})

    assert settings.clock_speed == Decimal("0.5")
    assert isinstance(settings.clock_speed, Decimal)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("off", False),
        ("false", False),
        ("0", False),
        ("no", False),
        ("on", True),
        ("TRUE", True),
        ("1", True),
        (" yes ", True),
    ],
)
def test_rate_limits_switch(text, value):
    settings = Settings.load(env={"HASHKEY_SIM_RATE_LIMITS": text})

    assert settings.rate_limits is value


def test_port_zero_is_allowed():
    assert Settings.load(env={"HASHKEY_SIM_PORT": "0"}).port == 0


def test_empty_clock_start_means_now():
    assert Settings.load(env={"HASHKEY_SIM_CLOCK_START": ""}).clock_start is None


def test_command_line_values_are_converted_too():
    settings = Settings.load(cli={"port": "9001", "clock_speed": "3"}, env={})

    assert (settings.port, settings.clock_speed) == (9001, Decimal(3))


# ---------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("env", "where"),
    [
        ({"HASHKEY_SIM_PORT": "abc"}, "HASHKEY_SIM_PORT (environment)"),
        ({"HASHKEY_SIM_PORT": "-1"}, "HASHKEY_SIM_PORT (environment)"),
        ({"HASHKEY_SIM_CLOCK_MODE": "fast"}, "HASHKEY_SIM_CLOCK_MODE (environment)"),
        ({"HASHKEY_SIM_RATE_LIMITS": "maybe"}, "HASHKEY_SIM_RATE_LIMITS (environment)"),
        ({"HASHKEY_SIM_CLOCK_SPEED": "-1"}, "HASHKEY_SIM_CLOCK_SPEED (environment)"),
        ({"HASHKEY_SIM_CLOCK_SPEED": "NaN"}, "HASHKEY_SIM_CLOCK_SPEED (environment)"),
        ({"HASHKEY_SIM_CLOCK_SPEED": "fast"}, "HASHKEY_SIM_CLOCK_SPEED (environment)"),
        ({"HASHKEY_SIM_WORKERS": "0"}, "HASHKEY_SIM_WORKERS (environment)"),
        ({"HASHKEY_SIM_WORKER_CLASS": "sync"}, "HASHKEY_SIM_WORKER_CLASS (environment)"),
        ({"HASHKEY_SIM_TIMESTAMP_CLOCK": "wall"}, "HASHKEY_SIM_TIMESTAMP_CLOCK (environment)"),
        ({"HASHKEY_SIM_CLOCK_START": "soon"}, "HASHKEY_SIM_CLOCK_START (environment)"),
    ],
    ids=[
        "port abc",
        "port negative",
        "clock_mode fast",
        "rate_limits maybe",
        "speed negative",
        "speed NaN",
        "speed word",
        "workers 0",
        "worker_class sync",
        "timestamp_clock wall",
        "clock_start word",
    ],
)
def test_bad_environment_value_names_the_variable_and_its_source(env, where):
    with pytest.raises(SettingsError) as caught:
        Settings.load(env=env)

    assert str(caught.value).startswith(f"{where}: ")


def test_bad_value_message_quotes_the_value():
    with pytest.raises(SettingsError, match="'fast' is not one of live, replay"):
        Settings.load(env={"HASHKEY_SIM_CLOCK_MODE": "fast"})


def test_bad_command_line_value_names_the_command_line():
    with pytest.raises(SettingsError) as caught:
        Settings.load(cli={"clock_mode": "fast"}, env={})

    assert str(caught.value).startswith("clock_mode (command line): ")


def test_bad_file_value_names_the_file(toml_file):
    path = toml_file('rate_limits = "maybe"\n')

    with pytest.raises(SettingsError) as caught:
        Settings.load(env={}, config_file=path)

    assert str(caught.value).startswith(f"rate_limits ({path}): ")


def test_bad_value_in_a_lower_source_is_not_read_when_a_higher_one_sets_the_field(toml_file):
    path = toml_file('port = "abc"\n')

    settings = Settings.load(env={"HASHKEY_SIM_PORT": "8001"}, config_file=path)

    assert settings.port == 8001


def test_unknown_key_in_the_file_is_refused(toml_file):
    path = toml_file('port = 7000\nbogus = 1\nalso_bogus = "x"\n')

    with pytest.raises(SettingsError) as caught:
        Settings.load(env={}, config_file=path)

    assert str(caught.value) == f"{path}: unknown setting(s) also_bogus, bogus"


def test_unknown_key_in_the_hashkey_sim_table_is_refused(toml_file):
    path = toml_file("[hashkey-sim]\nprot = 7000\n")

    with pytest.raises(SettingsError, match="unknown setting\\(s\\) prot"):
        Settings.load(env={}, config_file=path)


def test_missing_file_is_a_settings_error(tmp_path):
    path = tmp_path / "absent.toml"

    with pytest.raises(SettingsError, match="cannot read config file"):
        Settings.load(env={}, config_file=path)


def test_malformed_toml_is_a_settings_error(toml_file):
    path = toml_file("port = = 1\n")

    with pytest.raises(SettingsError, match=f"cannot read config file {path}"):
        Settings.load(env={}, config_file=path)


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


def test_replace_changes_only_the_named_fields():
    settings = Settings(port=9000)

    changed = settings.replace(host="0.0.0.0")

    assert (changed.port, changed.host, settings.host) == (9000, "0.0.0.0", "127.0.0.1")


def test_values_given_in_python_are_converted_and_checked_as_other_sources_are():
    settings = Settings(
        clock_mode="replay", clock_start="1736121600000", clock_speed=0, rate_limits="off", port="8001"
    )

    assert (settings.clock_start, settings.clock_speed, settings.rate_limits, settings.port) == (
        1736121600000,
        Decimal(0),
        False,
        8001,
    )
    assert Settings(admin_token=None).admin_token is None  # a field whose default is None may stay unset


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"clock_mode": "paused"}, "clock_mode"),
        ({"port": -1}, "port"),
        ({"clock_speed": "fast"}, "clock_speed"),
    ],
)
def test_a_bad_value_given_in_python_names_its_setting(changes, named):
    with pytest.raises(SettingsError, match=rf"Settings\({named}="):
        Settings(**changes)


def test_an_app_starts_on_settings_written_as_a_user_would(tmp_path):
    app = create_app(
        Settings(
            db=f"sqlite:///{tmp_path / 'sim.db'}",
            clock_mode="replay",
            clock_start=1736121600000,
            clock_speed=0,
        )
    )

    assert app.test_client().get("/api/v1/time").status_code == 200
