"""One Settings object, read from CLI flags, then HASHKEY_SIM_* environment variables, then a TOML file,
then defaults (the first source that sets a field wins)."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

ENV_PREFIX = "HASHKEY_SIM_"
CLOCK_MODES = ("live", "replay")
TIMESTAMP_CLOCKS = ("either", "transport", "market")
WORKER_CLASSES = ("gevent", "gthread")
DEFAULT_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class SettingsError(ValueError):
    """A setting has a value of the wrong form; the message names the setting and its source."""


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not a boolean (use true/false, on/off, 1/0)")


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return text

    return parse


def _non_negative_decimal(text: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation as e:
        raise ValueError(f"{text!r} is not a number") from e
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} is not a non-negative number")
    return value


def _positive_int(text: str) -> int:
    value = int(str(text))
    if value <= 0:
        raise ValueError(f"{text!r} is not a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = int(str(text))
    if value < 0:
        raise ValueError(f"{text!r} is not a non-negative integer")
    return value


def _optional_int(text: str) -> int | None:
    return None if str(text).strip() == "" else int(str(text))


def _parser(converter: Callable[[str], Any], help_text: str) -> dict[str, Any]:
    return {"converter": converter, "help": help_text}


@dataclass(frozen=True)
class Settings:
    """Everything the server and the CLI can be told. Field names are the TOML keys; the environment
    variable of a field is HASHKEY_SIM_ + its name in upper case."""

    db: str = field(default="sqlite:///hashkey-sim.db", metadata=_parser(str, "SQLAlchemy database URL"))
    host: str = field(default="127.0.0.1", metadata=_parser(str, "address serve binds to"))
    port: int = field(default=8000, metadata=_parser(_non_negative_int, "port serve binds to (0: any free)"))
    workers: int = field(default=1, metadata=_parser(_positive_int, "worker processes for serve"))
    worker_class: str = field(
        default="gevent",
        metadata=_parser(_choice(*WORKER_CLASSES), "how serve workers serve connections: gevent or gthread"),
    )
    threads: int = field(
        default=8, metadata=_parser(_positive_int, "threads per worker when worker_class is gthread")
    )
    admin_token: str | None = field(
        default=None,
        metadata=_parser(str, "X-SIM-ADMIN-TOKEN value; generated and printed by serve when unset"),
    )
    clock_mode: str = field(default="live", metadata=_parser(_choice(*CLOCK_MODES), "live or replay"))
    clock_start: int | None = field(
        default=None,
        metadata=_parser(_optional_int, "replay start, ms since the epoch (default: now)"),
    )
    clock_speed: Decimal = field(
        default=Decimal(1),
        metadata=_parser(_non_negative_decimal, "replay speed; 0 moves only when told"),
    )
    timestamp_clock: str = field(
        default="either",
        metadata=_parser(
            _choice(*TIMESTAMP_CLOCKS),
            "clock the timestamp/recvWindow check uses in replay mode: either, transport or market",
        ),
    )
    recv_window_default: int = field(default=5000, metadata=_parser(_positive_int, "recvWindow when absent"))
    recv_window_max: int = field(
        default=60000, metadata=_parser(_positive_int, "largest recvWindow accepted")
    )
    rate_limits: bool = field(
        default=True, metadata=_parser(_bool, "enforce request-weight and order limits")
    )
    ip_weight_limit: int = field(
        default=3000, metadata=_parser(_positive_int, "request weight per IP a window")
    )
    key_weight_limit: int = field(
        default=3000,
        metadata=_parser(_positive_int, "request weight per API key a window"),
    )
    weight_window_ms: int = field(default=60000, metadata=_parser(_positive_int, "request-weight window, ms"))
    order_limit: int = field(default=50, metadata=_parser(_positive_int, "new orders per key or IP a window"))
    order_window_ms: int = field(default=10000, metadata=_parser(_positive_int, "order-rate window, ms"))
    demo_data: bool = field(
        default=True,
        metadata=_parser(_bool, "serve imports the demo recording of fixtures/demo into a new database"),
    )
    fill_depth_staleness_ms: int = field(
        default=5000, metadata=_parser(_non_negative_int, "a depth snapshot older than this is not liquidity")
    )
    fill_bbo_staleness_ms: int = field(
        default=5000, metadata=_parser(_non_negative_int, "a best bid/offer older than this is not liquidity")
    )
    fill_synthetic_half_spread: Decimal = field(
        default=Decimal("0.0005"),
        metadata=_parser(_non_negative_decimal, "kline-only data: synthetic level distance from the close"),
    )
    fill_synthetic_volume_share: Decimal = field(
        default=Decimal("0.1"),
        metadata=_parser(_non_negative_decimal, "kline-only data: synthetic level size, share of bar volume"),
    )
    fill_kline_interval: str = field(
        default="1m", metadata=_parser(_choice("1s", "1m", "3m", "5m", "15m", "30m", "1h"), "bars matched on")
    )
    fill_kline_touch: bool = field(
        default=False, metadata=_parser(_bool, "a bar that only touches a resting limit fills it")
    )
    fill_kline_volume_share: Decimal = field(
        default=Decimal("0.1"),
        metadata=_parser(_non_negative_decimal, "share of a bar's volume that may fill resting orders"),
    )
    fill_queue_model: bool = field(
        default=True, metadata=_parser(_bool, "resting orders wait behind the recorded size at their price")
    )
    order_latency_ms: int = field(
        default=0,
        metadata=_parser(
            _non_negative_int, "market-time ms between an order's or cancel's receipt and matching"
        ),
    )
    withdraw_delay_ms: int = field(
        default=120_000,
        metadata=_parser(
            _non_negative_int, "market-time ms a withdrawal stays withdrawing before it succeeds"
        ),
    )
    fiat_delay_ms: int = field(
        default=300_000,
        metadata=_parser(_non_negative_int, "market-time ms a fiat deposit or withdrawal stays processing"),
    )
    fixtures: str = field(
        default=str(DEFAULT_FIXTURES),
        metadata=_parser(str, "folder of instruments/coins/fee-tier fixtures seeded into a new database"),
    )

    def __post_init__(self) -> None:
        """Values given in Python (`Settings(clock_speed=0, rate_limits="off")`) are read as the other sources
        are: converted to the field's type and checked, else a SettingsError naming the field."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None or f.default is not None:
                object.__setattr__(self, f.name, _convert(f, value, f"Settings({f.name}={value!r})"))

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def load(
        cls,
        cli: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
    ) -> Settings:
        """Merge the sources; `None` CLI values mean "not given". The TOML file may also be named by
        HASHKEY_SIM_CONFIG."""
        cli = {k: v for k, v in (cli or {}).items() if v is not None}
        env = os.environ if env is None else env
        config_file = config_file or env.get(ENV_PREFIX + "CONFIG")
        from_file = _read_toml(config_file) if config_file else {}
        unknown = set(from_file) - set(cls.names())
        if unknown:
            raise SettingsError(f"{config_file}: unknown setting(s) {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            for source, mapping, key in (
                ("command line", cli, f.name),
                ("environment", env, ENV_PREFIX + f.name.upper()),
                (str(config_file), from_file, f.name),
            ):
                if key in mapping:
                    values[f.name] = _convert(f, mapping[key], f"{key} ({source})")
                    break
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _convert(f: dataclasses.Field[Any], raw: Any, where: str) -> Any:
    try:
        return f.metadata["converter"](str(raw))
    except (TypeError, ValueError) as e:
        raise SettingsError(f"{where}: {e}") from e


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise SettingsError(f"cannot read config file {path}: {e}") from e
    # A [hashkey-sim] table is accepted as well as top-level keys, so the file can be shared with other tools.
    return dict(data.get("hashkey-sim", data))
