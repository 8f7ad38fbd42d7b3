"""The live recorders (`data record`): pure URL/paging functions, the envelope file, backoff and the
rate limiter, then each venue against a fake server on 127.0.0.1, the CLI end to end, and recordings
imported back with `run_import`."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websocket
from click.testing import CliRunner
from flask import Response, request
from simple_websocket import ConnectionClosed

from simulator.cli import main
from simulator.marketdata import store
from simulator.marketdata.recorders import (
    EnvelopeWriter,
    InvalidRequest,
    OutputError,
    RecorderError,
    RecordRequest,
    RunControl,
    StreamOptions,
    binance,
    kucoin,
    make_recorder,
    mudrex,
    parse_time,
    stop_on_signals,
    tickdb,
)
from simulator.marketdata.recorders.base import (
    Backoff,
    NotJson,
    RateLimiter,
    RestClient,
    StopRequested,
    contiguous_windows,
    envelope_line,
    url_with_query,
)
from simulator.marketdata.recorders.stream import ConnectionTrouble
from simulator.storage.db import Database
from tests.marketdata.conftest import import_files
from tests.marketdata.fake_venues import Background, FakeVenue, hold_open, wait_for

T0 = 1723161255000  # 2024-08-08T23:54:15Z
MINUTE = 60_000
FAST = StreamOptions(poll_s=0.02, healthy_s=3600)  # short reads; no connection counts as healthy


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line, parse_float=Decimal) for line in path.read_text().splitlines()]


def raw_data(line: str) -> str:
    """The text an envelope line holds after its "data" key, as it was spliced in."""
    return line[line.index('"data": ') + len('"data": ') : -1]


def has_importer(venue: str) -> bool:
    return importlib.util.find_spec(f"simulator.marketdata.venues.{venue}") is not None


# --- the common core ---------------------------------------------------------------------------------


def test_envelope_line_splices_the_message_text_unchanged() -> None:
    text = '{"p":"61837.63000000","x": 1.50, "n":1e3}'
    line = envelope_line(text, "binance", 1723161255208, {"symbol": "BTCUSDT", "interval": "1m"})
    assert line == (
        '{"recv_ms": 1723161255208, "venue": "binance", "symbol": "BTCUSDT", "interval": "1m", '
        '"data": {"p":"61837.63000000","x": 1.50, "n":1e3}}\n'
    )


def test_envelope_line_keeps_a_pretty_printed_response_on_one_line() -> None:
    line = envelope_line('{\r\n  "a": [1,\n 2]\n}\n', "tickdb", 5, {})
    assert line == '{"recv_ms": 5, "venue": "tickdb", "data": {    "a": [1,  2] }}\n'
    assert json.loads(line)["data"] == {"a": [1, 2]}


def test_writer_appends_flushes_and_counts(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    clock = iter([100, 200, 300])
    with EnvelopeWriter(out, "kucoin", clock_ms=lambda: next(clock)) as writer:
        assert writer.write('{"type":"welcome"}') == {"type": "welcome"}
        assert out.read_text() == '{"recv_ms": 100, "venue": "kucoin", "data": {"type":"welcome"}}\n'
        with pytest.raises(NotJson):
            writer.write("not json")
        assert writer.count == 1
    with EnvelopeWriter(out, "kucoin", clock_ms=lambda: next(clock)) as writer:
        writer.write("[1.10]", symbol="XBTUSDTM")
    assert out.read_text().splitlines() == [
        '{"recv_ms": 100, "venue": "kucoin", "data": {"type":"welcome"}}',
        '{"recv_ms": 200, "venue": "kucoin", "symbol": "XBTUSDTM", "data": [1.10]}',
    ]


def test_writer_ends_a_line_cut_short_before_appending(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    out.write_text('{"recv_ms": 1, "venue": "binance", "data": {"cut')
    with EnvelopeWriter(out, "binance", clock_ms=lambda: 2) as writer:
        writer.write("{}")
    assert out.read_text().splitlines()[1] == '{"recv_ms": 2, "venue": "binance", "data": {}}'


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    slept: list[float] = []
    backoff = Backoff(slept.append, initial_s=1, factor=2, cap_s=5)
    assert [backoff.next_delay() for _ in range(5)] == [1, 2, 4, 5, 5]
    backoff.reset()
    assert backoff.next_delay() == 1


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_allows_max_calls_per_period_then_waits_for_the_oldest_to_expire() -> None:
    clock = FakeClock()
    limiter = RateLimiter(300, 60.0, clock, clock.sleep)
    for _ in range(300):
        limiter.acquire()
    assert clock.slept == []
    clock.now += 10
    limiter.acquire()  # the 301st within the minute waits until the first is 60 s old
    assert clock.slept == [50.0]
    limiter.acquire()
    assert clock.slept == [50.0]  # the window slid by the calls made at the start: room again
    assert len(limiter._calls) == 2


def test_rate_limiter_spreads_calls_made_over_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 60.0, clock, clock.sleep)
    for _ in range(3):
        limiter.acquire()
        clock.now += 25
    # calls at 0, 25, then 50: the third waits until the first is a minute old
    assert clock.slept == [10.0]


def test_run_control_stops_at_the_end_of_the_duration() -> None:
    clock = FakeClock()
    control = RunControl(duration_s=30, clock=clock)
    assert not control.stopped
    clock.now += 30
    assert control.stopped
    with pytest.raises(StopRequested):
        control.wait(1)


def test_run_control_stop_cuts_a_wait_short() -> None:
    control = RunControl()
    control.stop()
    with pytest.raises(StopRequested):
        control.wait(3600)


def test_contiguous_windows_cover_the_range_once() -> None:
    assert list(contiguous_windows(0, 25, 10)) == [(0, 9), (10, 19), (20, 25)]
    assert list(contiguous_windows(5, 5, 10)) == [(5, 5)]
    assert list(contiguous_windows(6, 5, 10)) == []


def test_url_with_query_leaves_slashes_and_commas_literal() -> None:
    url = url_with_query("https://x/p", [("assets", "BTC/USDT,ETH/USDT"), ("q", "a b&c")])
    assert url == "https://x/p?assets=BTC/USDT,ETH/USDT&q=a%20b%26c"


@pytest.mark.parametrize(
    "text, ms",
    [
        ("1723161255208", 1723161255208),
        ("1723161255", 1723161255000),  # seconds, told apart by magnitude
        ("2024-08-08T23:54:15.208Z", 1723161255208),
        ("2024-08-08T23:54:15.208", 1723161255208),  # no offset: UTC
        ("2024-08-09T07:54:15.208+08:00", 1723161255208),
        ("2024-08-08", 1723075200000),
    ],
)
def test_parse_time_takes_ms_or_iso(text: str, ms: int) -> None:
    assert parse_time(text) == ms


def test_parse_time_refuses_anything_else() -> None:
    with pytest.raises(ValueError, match="neither"):
        parse_time("yesterday")


def test_stop_on_signals_turns_sigterm_into_a_stop_and_restores_the_handler() -> None:
    control = RunControl()
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals(control):
        os.kill(os.getpid(), signal.SIGTERM)
        wait_for(lambda: control.stopped, "the stop flag")
    assert signal.getsignal(signal.SIGTERM) is before


def test_rest_client_gives_up_on_a_refusal_without_retrying(tmp_path: Path) -> None:
    venue = FakeVenue()
    venue.app.get("/x")(lambda: ({"code": -1121, "msg": "Invalid symbol."}, 400))
    slept: list[float] = []
    with venue:
        client = RestClient(RunControl(), Backoff(slept.append))
        with pytest.raises(RecorderError, match='HTTP 400: {"code":-1121'):
            client.get(venue.url + "/x")
        client.close()
    assert (len(venue.seen), slept) == (1, [])


def test_rest_client_retries_server_errors_a_bounded_number_of_times() -> None:
    venue = FakeVenue()
    venue.app.get("/x")(lambda: ("busy", 503))
    slept: list[float] = []
    with venue:
        client = RestClient(RunControl(), Backoff(slept.append, initial_s=1), max_attempts=3)
        with pytest.raises(RecorderError, match="gave up after 3 attempts: HTTP 503"):
            client.get(venue.url + "/x")
        client.close()
    assert (len(venue.seen), slept) == (3, [1, 2])


# --- request checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_, message",
    [
        (RecordRequest("binance", ["BTCUSDT"], start_ms=T0, end_ms=T0), "--start does not apply to binance"),
        (RecordRequest("mudrex", ["BTCUSDT"]), "mudrex needs --start"),
        (RecordRequest("tickdb", ["BTCUSDT"]), "TickDB needs an API key"),
        (RecordRequest("kucoin", ["XBTUSDTM"], end_ms=T0), "--end needs --start"),
        (RecordRequest("kucoin", ["XBTUSDTM"], start_ms=T0 + 1, end_ms=T0), "--start is after --end"),
        (RecordRequest("kucoin", ["XBTUSDTM"], interval="3m", start_ms=T0), "KuCoin klines come in"),
        (RecordRequest("mudrex", ["BTCUSDT"], interval="2h", start_ms=T0), "Mudrex klines come in"),
        (RecordRequest("mudrex", ["BTCXYZ"], start_ms=T0), "cannot tell the quote asset"),
        (RecordRequest("kucoin", []), "no symbols"),
        (
            RecordRequest("kucoin", ["XBTUSDTM"], ws_url="https://x"),
            "--ws-url must start with ws:// or wss://",
        ),
        (
            RecordRequest("binance", ["BTCUSDT"], base_url="api.binance.com"),
            "--base-url must start with http",
        ),
    ],
)
def test_make_recorder_refuses_what_the_venue_cannot_serve(
    tmp_path: Path, request_: RecordRequest, message: str
) -> None:
    with EnvelopeWriter(tmp_path / "x.jsonl", request_.venue) as writer:
        with pytest.raises(InvalidRequest, match=message):
            make_recorder(request_, writer, RunControl())


# --- Binance -----------------------------------------------------------------------------------------


def test_binance_stream_names_and_urls() -> None:
    names = binance.stream_names(["BTCUSDT", "EthUsdt"], binance.DEFAULT_STREAMS)
    assert names == [
        "btcusdt@trade",
        "btcusdt@bookTicker",
        "btcusdt@depth@100ms",
        "ethusdt@trade",
        "ethusdt@bookTicker",
        "ethusdt@depth@100ms",
    ]
    assert binance.combined_stream_url(binance.DEFAULT_WS_URL, names[:2]) == (
        "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@bookTicker"
    )
    assert binance.depth_snapshot_url(binance.DEFAULT_BASE_URL, "BTCUSDT") == (
        "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000"
    )


@pytest.mark.parametrize(
    "stream, symbol",
    [
        ("btcusdt@depth@100ms", "BTCUSDT"),
        ("btcusdt@depth", "BTCUSDT"),
        ("btcusdt@depth20@100ms", None),
        ("btcusdt@depth5", None),
        ("btcusdt@trade", None),
    ],
)
def test_only_diff_depth_streams_need_a_snapshot(stream: str, symbol: str | None) -> None:
    assert binance.diff_depth_symbol(stream) == symbol


def _msg(stream: str, data: str) -> str:
    return f'{{"stream":"{stream}","data":{data}}}'


DEPTH = "btcusdt@depth@100ms"
# First connection: a diff the first snapshot (lastUpdateId 100) straddles, a trade, a book ticker, a diff.
FIRST_CONNECTION = [
    _msg(
        DEPTH,
        f'{{"e":"depthUpdate","E":{T0 + 100},"s":"BTCUSDT","U":99,"u":101,'
        '"b":[["61737.63000000","1.50000000"]],"a":[["61837.64000000","0.00000000"]]}',
    ),
    _msg(
        "btcusdt@trade",
        f'{{"e":"trade","E":{T0 + 150},"s":"BTCUSDT","t":3735683259,'
        f'"p":"61800.10000000","q":"0.00100000","T":{T0 + 149},"m":true,"M":true}}',
    ),
    _msg(
        "btcusdt@bookTicker",
        '{"u":101,"s":"BTCUSDT","b":"61737.63000000","B":"1.50000000","a":"61900.00000000","A":"3.00000000"}',
    ),
    _msg(
        DEPTH,
        f'{{"e":"depthUpdate","E":{T0 + 200},"s":"BTCUSDT","U":102,"u":103,'
        '"b":[["61750.00000000","0.25000000"]],"a":[]}',
    ),
]
# After the drop: the sequence jumped (a gap), so a new snapshot (lastUpdateId 151) is fetched.
SECOND_CONNECTION = [
    _msg(
        DEPTH,
        f'{{"e":"depthUpdate","E":{T0 + 5000},"s":"BTCUSDT","U":150,"u":152,'
        '"b":[["61700.00000000","0.00000000"]],"a":[["61950.00000000","1.00000000"]]}',
    ),
    _msg(
        "btcusdt@trade",
        f'{{"e":"trade","E":{T0 + 5100},"s":"BTCUSDT","t":3735683260,'
        f'"p":"61750.00000000","q":"0.25000000","T":{T0 + 5099},"m":false,"M":true}}',
    ),
    _msg(
        DEPTH,
        f'{{"e":"depthUpdate","E":{T0 + 5200},"s":"BTCUSDT","U":153,"u":153,'
        '"b":[["61760.00000000","0.10000000"]],"a":[]}',
    ),
]
# When each message of the two connections above (snapshots included) was received, in file order.
RECEIVE_TIMES = [T0 + 101, T0 + 102, T0 + 151, T0 + 152, T0 + 201, T0 + 5001, T0 + 5002, T0 + 5101, T0 + 5201]
SNAPSHOTS = [
    '{"lastUpdateId":100,"bids":[["61737.63000000","1.00000000"],["61700.00000000","2.00000000"]],'
    '"asks":[["61837.64000000","0.50000000"],["61900.00000000","3.00000000"]]}',
    '{"lastUpdateId":151,"bids":[["61750.00000000","0.25000000"],["61737.63000000","1.50000000"],'
    '["61700.00000000","2.00000000"]],"asks":[["61900.00000000","3.00000000"]]}',
]


def binance_venue(connections: list[list[str]], snapshots: list[str]) -> tuple[FakeVenue, list[str]]:
    """A combined-stream server: connection n sends connections[n]; all but the last are then dropped,
    the last is held open. Also returns the list of how each held connection ended."""
    venue = FakeVenue()
    opened: list[int] = []
    ends: list[str] = []
    lock = threading.Lock()

    @venue.sock.route("/stream")
    def stream(ws: Any) -> None:
        with lock:
            number = len(opened)
            opened.append(number)
        for text in connections[min(number, len(connections) - 1)]:
            ws.send(text)
        if number < len(connections) - 1:
            return  # flask-sock closes the connection: the drop
        hold_open(ws, venue)
        ends.append("server shut down" if venue.closing.is_set() else "client closed")

    @venue.app.get("/api/v3/depth")
    def depth() -> Response:
        served = len(venue.requests_to("/api/v3/depth")) - 1
        return Response(snapshots[min(served, len(snapshots) - 1)], mimetype="application/json")

    return venue, ends


def binance_request(venue: FakeVenue, streams: list[str] | None = None, **options: Any) -> RecordRequest:
    return RecordRequest(
        "binance",
        ["BTCUSDT"],
        streams=streams,
        ws_url=venue.ws_url + "/stream",
        base_url=venue.url,
        stream=StreamOptions(**{"poll_s": 0.02, "healthy_s": 3600, **options}),
    )


def record_binance_with_a_drop(out: Path, clock_ms: Any = None) -> tuple[FakeVenue, list[float]]:
    venue, _ = binance_venue([FIRST_CONNECTION, SECOND_CONNECTION], SNAPSHOTS)
    slept: list[float] = []
    expected = len(FIRST_CONNECTION) + len(SECOND_CONNECTION) + 2  # and a snapshot per connection
    with venue, EnvelopeWriter(out, "binance", **({"clock_ms": clock_ms} if clock_ms else {})) as writer:
        control = RunControl()
        recorder = make_recorder(binance_request(venue), writer, control, sleep=slept.append)
        running = Background(recorder.run, control.stop)
        wait_for(lambda: writer.count >= expected, f"{expected} messages")
        running.stop()
        assert writer.count == expected
    return venue, slept


def test_binance_records_reconnects_after_a_drop_and_refetches_the_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "binance.jsonl"
    venue, slept = record_binance_with_a_drop(out)

    streams = "btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@100ms"
    assert [r.args for r in venue.requests_to("/stream")] == [{"streams": streams}] * 2
    assert [r.args for r in venue.requests_to("/api/v3/depth")] == [
        {"symbol": "BTCUSDT", "limit": "1000"}
    ] * 2
    assert slept == [1.0]  # one reconnection, after the initial backoff

    lines = out.read_text().splitlines()
    sent = [FIRST_CONNECTION[0], SNAPSHOTS[0], *FIRST_CONNECTION[1:], SECOND_CONNECTION[0], SNAPSHOTS[1]]
    sent += SECOND_CONNECTION[1:]
    assert [raw_data(line) for line in lines] == sent  # the venue's bytes, in order
    envelopes = [json.loads(line) for line in lines]
    assert all(e["venue"] == "binance" and isinstance(e["recv_ms"], int) for e in envelopes)
    snapshot_lines = [i for i, e in enumerate(envelopes) if e.get("symbol") == "BTCUSDT"]
    assert snapshot_lines == [1, 6]
    assert all(set(e) == {"recv_ms", "venue", "data"} for i, e in enumerate(envelopes) if i not in (1, 6))
    assert [e["recv_ms"] for e in envelopes] == sorted(e["recv_ms"] for e in envelopes)


def test_binance_fetches_no_snapshot_without_a_diff_depth_stream(tmp_path: Path) -> None:
    trades = [m for m in FIRST_CONNECTION if "@trade" in m]
    venue, _ = binance_venue([trades], SNAPSHOTS)
    with venue, EnvelopeWriter(tmp_path / "t.jsonl", "binance") as writer:
        control = RunControl()
        recorder = make_recorder(binance_request(venue, ["trade"]), writer, control, sleep=lambda s: None)
        running = Background(recorder.run, control.stop)
        wait_for(lambda: writer.count >= 1, "the trade")
        running.stop()
    assert venue.requests_to("/api/v3/depth") == []
    assert venue.requests_to("/stream")[0].args == {"streams": "btcusdt@trade"}


def test_binance_renews_a_connection_at_its_max_age(tmp_path: Path) -> None:
    one_trade = [m for m in FIRST_CONNECTION if "@trade" in m]
    venue, ends = binance_venue([one_trade], SNAPSHOTS)  # every connection: one trade, then held open
    slept: list[float] = []
    with venue, EnvelopeWriter(tmp_path / "t.jsonl", "binance") as writer:
        control = RunControl()
        request_ = binance_request(venue, ["trade"], max_age_s=0.2)
        recorder = make_recorder(request_, writer, control, sleep=slept.append)
        running = Background(recorder.run, control.stop)
        wait_for(lambda: writer.count >= 3, "three connections' trades")
        running.stop()
        stream_recorder = recorder.runner  # type: ignore[attr-defined]
        wait_for(lambda: len(ends) >= 2, "the server to see the renewed connections end")
    assert stream_recorder.connections >= 3
    # every connection but (perhaps) the last was renewed by us
    assert stream_recorder.renewals >= stream_recorder.connections - 1
    assert ends[:2] == ["client closed", "client closed"]  # we closed them, the venue did not
    assert slept == []  # a renewal reconnects at once, without backoff


def test_binance_backs_off_exponentially_while_the_venue_refuses(tmp_path: Path) -> None:
    venue = FakeVenue()
    venue.app.get("/stream")(lambda: ("maintenance", 503))
    slept: list[float] = []
    with venue, EnvelopeWriter(tmp_path / "t.jsonl", "binance") as writer:
        control = RunControl()

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            if len(slept) == 4:
                control.stop()

        recorder = make_recorder(binance_request(venue, ["trade"]), writer, control, sleep=sleep)
        running = Background(recorder.run, lambda: None)
        wait_for(lambda: control.stopped, "four refusals")
        running.stop()
    assert slept == [1, 2, 4, 8]
    assert len(venue.requests_to("/stream")) == 4


def test_a_full_disk_stops_the_recording_instead_of_reconnecting() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    trades = [m for m in FIRST_CONNECTION if "@trade" in m]
    venue, _ = binance_venue([trades], SNAPSHOTS)
    slept: list[float] = []
    with venue, EnvelopeWriter("/dev/full", "binance") as writer:
        recorder = make_recorder(binance_request(venue, ["trade"]), writer, RunControl(), sleep=slept.append)
        with pytest.raises(OutputError, match="cannot write /dev/full"):
            recorder.run()
    assert (len(venue.requests_to("/stream")), slept) == (1, [])


def test_binance_round_trip_imports_the_recording(tmp_path: Path, md_db: Database) -> None:
    if not has_importer("binance"):
        pytest.skip("simulator.marketdata.venues.binance is not there yet")
    out = tmp_path / "binance.jsonl"
    receive_times = iter(RECEIVE_TIMES)
    record_binance_with_a_drop(out, clock_ms=lambda: next(receive_times))
    report = import_files(md_db, "binance", out, depth_interval_ms=1)
    assert report.unmapped == {}
    assert report.count("trade", "BTCUSDT") == 2
    assert report.count("bbo", "BTCUSDT") == 1
    # the reconnection shows as a gap in the diff sequence, healed by the snapshot fetched after it
    assert (
        len(report.warnings) == 1
        and "binance.jsonl:6: binance BTCUSDT depth: sequence gap" in report.warnings[0]
    )
    with md_db.read() as session:
        trades = store.trades_between(session, "BTCUSDT", 0, T0 + 10**9)
        book = store.depth_at(session, "BTCUSDT", T0 + 10**9)
    assert [(t.trade_id, t.price, t.qty, t.buyer_is_maker) for t in trades] == [
        ("3735683259", Decimal("61800.1"), Decimal("0.001"), True),
        ("3735683260", Decimal("61750"), Decimal("0.25"), False),
    ]
    assert book is not None
    # the second snapshot with the diffs after it; the first connection's book was left at the gap
    assert book.time == T0 + 5200
    assert book.bids == (
        (Decimal("61760"), Decimal("0.1")),
        (Decimal("61750"), Decimal("0.25")),
        (Decimal("61737.63"), Decimal("1.5")),
    )
    assert book.asks == ((Decimal("61900"), Decimal("3")), (Decimal("61950"), Decimal("1")))


# --- KuCoin live topics ------------------------------------------------------------------------------

BULLET = "/api/v1/bullet-public"
TICKER = (
    '{"topic":"/contractMarket/tickerV2:XBTUSDTM","type":"message","subject":"tickerV2","sn":1713516609293,'
    '"data":{"symbol":"XBTUSDTM","sequence":1713516609293,"bestBidSize":5044,"bestBidPrice":"86454.5",'
    '"bestAskPrice":"86454.6","bestAskSize":73,"ts":1740641976241000000}}'
)
EXECUTION = (
    '{"topic":"/contractMarket/execution:XBTUSDTM","type":"message","subject":"match","sn":1728107666597,'
    '"data":{"symbol":"XBTUSDTM","sequence":1728107666597,"side":"sell","size":1,"price":"39615",'
    '"tradeId":"1728107666597","ts":1740641976300000000}}'
)
EXECUTION_2 = EXECUTION.replace("1728107666597", "1728107666598").replace('"size":1,', '"size":25,')


class KucoinServer:
    """bullet-public plus the WebSocket endpoint it names. Connection n follows behaviours[n] (the last
    one repeats): "drop" sends its messages, waits for two pings and closes; "hold" sends its messages
    and stays open answering pings; "silent" answers nothing after the subscriptions."""

    def __init__(self, behaviours: list[str], messages: list[list[str]], ping_interval_ms: int = 50):
        self.venue = FakeVenue()
        self.connections: list[dict[str, Any]] = []
        self.ends: list[str] = []
        self.behaviours, self.messages = behaviours, messages
        self.ping_interval_ms = ping_interval_ms
        self.venue.app.post(BULLET)(self.bullet)
        self.venue.sock.route("/endpoint")(self.endpoint)

    def bullet(self) -> dict[str, Any]:
        number = len(self.venue.requests_to(BULLET)) - 1  # this request is already counted
        server = {
            "endpoint": self.venue.ws_url + "/endpoint",
            "encrypt": True,
            "protocol": "websocket",
            "pingInterval": self.ping_interval_ms,
            "pingTimeout": 3 * self.ping_interval_ms,
        }
        return {"code": "200000", "data": {"token": f"token-{number}", "instanceServers": [server]}}

    def endpoint(self, ws: Any) -> None:
        number = len(self.connections)
        frames: list[dict[str, Any]] = []
        self.connections.append({"args": dict(request.args), "frames": frames})
        behaviour = self.behaviours[min(number, len(self.behaviours) - 1)]
        ws.send(json.dumps({"id": request.args["connectId"], "type": "welcome"}))
        while len([f for f in frames if f["type"] == "subscribe"]) < 3:
            frames.append(json.loads(ws.receive(timeout=10)))
            if frames[-1]["type"] == "subscribe":
                ws.send(json.dumps({"id": frames[-1]["id"], "type": "ack"}))
        for text in self.messages[min(number, len(self.messages) - 1)]:
            ws.send(text)
        self.ends.append(self.serve(ws, frames, behaviour))

    def serve(self, ws: Any, frames: list[dict[str, Any]], behaviour: str) -> str:
        while not self.venue.closing.is_set():
            try:
                text = ws.receive(timeout=0.05)
            except ConnectionClosed:
                return "client closed"
            if text is None:
                continue
            frames.append(json.loads(text))
            if frames[-1]["type"] == "ping" and behaviour != "silent":
                ws.send(json.dumps({"id": frames[-1]["id"], "type": "pong"}))
            if behaviour == "drop" and len([f for f in frames if f["type"] == "ping"]) == 2:
                return "dropped"
        return "server shut down"


def kucoin_request(server: KucoinServer) -> RecordRequest:
    return RecordRequest("kucoin", ["XBTUSDTM"], base_url=server.venue.url, stream=FAST)


def record_kucoin(server: KucoinServer, out: Path, until: Any) -> list[float]:
    slept: list[float] = []
    with server.venue, EnvelopeWriter(out, "kucoin") as writer:
        control = RunControl()
        recorder = make_recorder(kucoin_request(server), writer, control, sleep=slept.append)
        running = Background(recorder.run, control.stop)
        wait_for(lambda: until(writer), "the recording")
        running.stop()
    return slept


def test_kucoin_token_welcome_subscriptions_pings_and_reconnection(tmp_path: Path) -> None:
    out = tmp_path / "kucoin.jsonl"
    server = KucoinServer(["drop", "hold"], [[TICKER, EXECUTION], [EXECUTION_2]])
    slept = record_kucoin(server, out, lambda w: EXECUTION_2 in Path(w.path).read_text())

    assert len(server.venue.requests_to(BULLET)) == 2  # a new token for each connection
    assert [c["args"]["token"] for c in server.connections] == ["token-0", "token-1"]
    assert len({c["args"]["connectId"] for c in server.connections}) == 2
    expected_topics = [
        "/contractMarket/tickerV2:XBTUSDTM",
        "/contractMarket/level2Depth50:XBTUSDTM",
        "/contractMarket/execution:XBTUSDTM",
    ]
    for connection in server.connections:
        subscribes = [f for f in connection["frames"] if f["type"] == "subscribe"]
        assert [f["topic"] for f in subscribes] == expected_topics
        assert all(
            set(f) == {"id", "type", "topic", "response"} and f["response"] is True for f in subscribes
        )
        assert len({f["id"] for f in subscribes}) == 3
    first_pings = [f for f in server.connections[0]["frames"] if f["type"] == "ping"]
    assert len(first_pings) == 2 and all(set(f) == {"id", "type"} for f in first_pings)
    assert server.ends[0] == "dropped"
    assert slept == [1.0]

    data = [json.loads(line)["data"] for line in out.read_text().splitlines()]
    kinds = [d["type"] for d in data]
    # everything the venue sent is kept: welcome, the three acks, the messages, the pongs
    assert kinds[:6] == ["welcome", "ack", "ack", "ack", "message", "message"]
    assert kinds[6:8] == ["pong", "pong"]
    assert kinds[8:13] == ["welcome", "ack", "ack", "ack", "message"]
    messages = [raw_data(line) for line in out.read_text().splitlines() if '"type":"message"' in line]
    assert messages == [TICKER, EXECUTION, EXECUTION_2]


def test_kucoin_reconnects_when_the_venue_falls_silent(tmp_path: Path) -> None:
    server = KucoinServer(["silent", "hold"], [[TICKER], [EXECUTION]])
    record_kucoin(server, tmp_path / "k.jsonl", lambda w: len(server.connections) == 2 and w.count >= 10)
    assert server.ends[0] == "client closed"  # pings unanswered for longer than pingTimeout
    assert len(server.venue.requests_to(BULLET)) == 2


class ScriptedConnection:
    """A WebSocket connection that hands out scripted frames and keeps what is sent to it."""

    def __init__(self, frames: list[str]):
        self.frames = [frame.encode() for frame in frames]
        self.sent: list[dict[str, Any]] = []

    def send(self, payload: str) -> None:
        self.sent.append(json.loads(payload))

    def recv_data(self, control_frame: bool = False) -> tuple[int, bytes]:
        return websocket.ABNF.OPCODE_TEXT, self.frames.pop(0)


def test_kucoin_pings_every_ping_interval_and_gives_up_on_silence(tmp_path: Path) -> None:
    clock = FakeClock(start=0.0)
    config = kucoin.KucoinConfig(["XBTUSDTM"], streams=["tickerV2"])
    streams = kucoin.KucoinStreams(config, http=None, control=RunControl(), clock=clock)  # type: ignore[arg-type]
    streams.bullet = kucoin.Bullet("token", "wss://x", ping_interval_s=18, ping_timeout_s=10)
    connection = ScriptedConnection(['{"id":"c1","type":"welcome"}'])
    with EnvelopeWriter(tmp_path / "k.jsonl", "kucoin") as writer:
        streams.on_open(connection, writer)
    assert [f["type"] for f in connection.sent] == ["subscribe"]
    for now in (17.9, 18.0, 20.0, 35.9, 36.0):
        streams.on_message("{}", {"type": "message"}, now)  # the venue keeps talking
        streams.on_idle(connection, now)
    assert [f["type"] for f in connection.sent] == ["subscribe", "ping", "ping"]
    assert streams.pings_sent == 2
    with pytest.raises(ConnectionTrouble, match="nothing heard for 28 s"):
        streams.on_idle(connection, 36.0 + 28.01)  # pingInterval + pingTimeout without a word


def test_kucoin_live_round_trip_imports_tickers_and_trades(tmp_path: Path, md_db: Database) -> None:
    if not has_importer("kucoin"):
        pytest.skip("simulator.marketdata.venues.kucoin is not there yet")
    out = tmp_path / "kucoin.jsonl"
    server = KucoinServer(["drop", "hold"], [[TICKER, EXECUTION], [EXECUTION_2]])
    record_kucoin(server, out, lambda w: EXECUTION_2 in Path(w.path).read_text())
    report = import_files(md_db, "kucoin", out)
    assert report.unmapped == {}
    assert (report.count("bbo", "BTCUSDT"), report.count("trade", "BTCUSDT")) == (1, 2)
    with md_db.read() as session:
        trades = store.trades_between(session, "BTCUSDT", 0, 1740641976300)
        bbo = store.bbo_at(session, "BTCUSDT", 1740641976241)
    assert [(t.trade_id, t.price, t.qty) for t in trades] == [
        ("1728107666597", Decimal("39615"), Decimal("0.001")),  # 1 lot of 0.001 BTC
        ("1728107666598", Decimal("39615"), Decimal("0.025")),
    ]
    assert bbo is not None
    assert (bbo.bid_price, bbo.bid_qty, bbo.ask_price, bbo.ask_qty) == (
        Decimal("86454.5"),
        Decimal("5.044"),
        Decimal("86454.6"),
        Decimal("0.073"),
    )


# --- KuCoin klines -----------------------------------------------------------------------------------

K0 = 1723161240000  # a whole minute
GAP = range(480, 520)  # minutes without a bar (no trades)
KUCOIN_BARS = [i for i in range(1200) if i not in GAP]
KLINES = "/api/v1/kline/query"
KUCOIN_END = K0 + 1199 * MINUTE


def kucoin_bar(i: int) -> str:
    return f"[{K0 + i * MINUTE},115328.4,115330.{i % 10},115284.2,115284.2,{600 + i},69424.9528]"


def kucoin_kline_venue() -> FakeVenue:
    venue = FakeVenue()

    @venue.app.get(KLINES)
    def klines() -> Response:
        first, last = int(request.args["from"]), int(request.args["to"])
        bars = [kucoin_bar(i) for i in KUCOIN_BARS if first <= K0 + i * MINUTE <= last][:500]
        return Response('{"code":"200000","data":[' + ",".join(bars) + "]}", mimetype="application/json")

    return venue


def record_kucoin_klines(out: Path) -> FakeVenue:
    """Records [K0, KUCOIN_END] of XBTUSDTM 1m bars from the fake; returns it for its requests."""
    venue = kucoin_kline_venue()
    with venue, EnvelopeWriter(out, "kucoin") as writer:
        request_ = RecordRequest(
            "kucoin", ["XBTUSDTM"], interval="1m", start_ms=K0, end_ms=KUCOIN_END, base_url=venue.url
        )
        make_recorder(request_, writer, RunControl()).run()
    return venue


def test_kucoin_kline_windows_advance_from_the_last_bar() -> None:
    assert kucoin.window_end(K0, K0 + 10**10, MINUTE) == K0 + 500 * MINUTE - 1
    assert kucoin.window_end(K0, K0 + 5 * MINUTE, MINUTE) == K0 + 5 * MINUTE
    assert kucoin.next_cursor([K0, K0 + MINUTE], K0, K0 + 499 * MINUTE, MINUTE) == K0 + 2 * MINUTE
    assert kucoin.next_cursor([], K0, K0 + 499 * MINUTE, MINUTE) == K0 + 499 * MINUTE + 1
    # bars outside the window asked for (a venue ignoring `from`) do not move the cursor back
    assert kucoin.next_cursor([K0 - MINUTE], K0, K0 + 9, MINUTE) == K0 + 10
    assert kucoin.kline_url("https://k", "XBTUSDTM", 60, 1, 2) == (
        "https://k/api/v1/kline/query?symbol=XBTUSDTM&granularity=60&from=1&to=2"
    )


def test_kucoin_pages_klines_500_at_a_time_until_the_end(tmp_path: Path) -> None:
    out = tmp_path / "klines.jsonl"
    venue = record_kucoin_klines(out)

    asked = [(int(r.args["from"]), int(r.args["to"])) for r in venue.requests_to(KLINES)]
    assert asked == [
        (K0, K0 + 500 * MINUTE - 1),
        (K0 + 480 * MINUTE, K0 + 980 * MINUTE - 1),  # after the last bar received: the gap is asked again
        (K0 + 980 * MINUTE, KUCOIN_END),
    ]
    assert {(r.args["symbol"], r.args["granularity"]) for r in venue.requests_to(KLINES)} == {
        ("XBTUSDTM", "1")
    }
    envelopes = lines_of(out)
    assert [(e["symbol"], e["interval"]) for e in envelopes] == [("XBTUSDTM", "1m")] * 3
    assert [len(e["data"]["data"]) for e in envelopes] == [480, 460, 220]


def test_kucoin_klines_round_trip(tmp_path: Path, md_db: Database) -> None:
    if not has_importer("kucoin"):
        pytest.skip("simulator.marketdata.venues.kucoin is not there yet")
    out = tmp_path / "klines.jsonl"
    record_kucoin_klines(out)
    report = import_files(md_db, "kucoin", out)
    assert report.count("kline 1m", "BTCUSDT") == len(KUCOIN_BARS)
    with md_db.read() as session:
        bars = store.klines(session, "BTCUSDT", "1m", K0 - 1, KUCOIN_END)
    assert len(bars) == len(KUCOIN_BARS)
    assert (bars[7].open_time, bars[7].high, bars[7].volume) == (
        K0 + 7 * MINUTE,
        Decimal("115330.7"),
        Decimal("0.607"),
    )
    assert all(bar.is_final for bar in bars)


# --- Mudrex ------------------------------------------------------------------------------------------

HOUR_S = 3600
S0 = 1723075200  # 2024-08-08T00:00:00Z, seconds
MUDREX_KLINES = "/fapi/v1/price/kline"
MUDREX_SYMBOLS = ["BTCUSDT", "ETH/USDT", *[f"C{i}USDT" for i in range(28)]]  # 30: two chunks


@pytest.mark.parametrize(
    "symbol, asset",
    [
        ("BTCUSDT", "BTC/USDT"),
        ("btc/usdt", "BTC/USDT"),
        ("ETHBTC", "ETH/BTC"),
        ("SOLUSDC", "SOL/USDC"),
        ("ETHUSD", "ETH/USD"),
        ("LINKETH", "LINK/ETH"),
    ],
)
def test_mudrex_asset_names(symbol: str, asset: str) -> None:
    assert mudrex.mudrex_asset(symbol) == asset


def test_mudrex_requests_cover_the_range_in_1440_bar_windows_and_25_asset_chunks() -> None:
    assets = [f"A{i}/USDT" for i in range(30)]
    urls = list(mudrex.requests_for("https://m", assets, "1m", S0 * 1000, (S0 + 3000 * 60) * 1000))
    day = 1440 * 60
    windows = [(S0, S0 + day - 1), (S0 + day, S0 + 2 * day - 1), (S0 + 2 * day, S0 + 3000 * 60)]
    chunks = [",".join(assets[:25]), ",".join(assets[25:])]
    assert urls == [
        f"https://m/fapi/v1/price/kline?assets={chunk}&aggregation=1m&start_time={first}&end_time={last}"
        for first, last in windows
        for chunk in chunks
    ]


def test_mudrex_never_asks_for_an_end_not_after_its_start() -> None:
    # a range of one second: Mudrex refuses end_time <= start_time
    assert list(mudrex.requests_for("https://m", ["BTC/USDT"], "1h", S0 * 1000, S0 * 1000 + 999)) == [
        f"https://m/fapi/v1/price/kline?assets=BTC/USDT&aggregation=1h&start_time={S0}&end_time={S0 + 1}"
    ]


def mudrex_candle(t: int) -> str:
    return f"[{t}, 28436.6, 28449.81, 28436.6, 28449.81, 0.742521]"


def mudrex_venue(busy_first: bool = True) -> FakeVenue:
    """Candles every hour for btc/usdt and eth/usdt (other assets have none and are left out, as Mudrex
    does); the first request is answered 429 with Retry-After: 7."""
    venue = FakeVenue()

    @venue.app.get(MUDREX_KLINES)
    def klines() -> Response:
        if busy_first and len(venue.requests_to(MUDREX_KLINES)) == 1:
            body = '{"success": false, "errors": [{"code": 429, "text": "Rate limit exceeded"}]}'
            return Response(body, status=429, headers={"Retry-After": "7"}, mimetype="application/json")
        first, last = int(request.args["start_time"]), int(request.args["end_time"])
        times = [t for t in range(S0, last + 1, HOUR_S) if t >= first]
        ticks = {
            asset.lower(): "[" + ", ".join(mudrex_candle(t) for t in times[:1440]) + "]"
            for asset in request.args["assets"].split(",")
            if asset in ("BTC/USDT", "ETH/USDT")
        }
        series = ", ".join(f'"{asset}": {candles}' for asset, candles in ticks.items())
        return Response(
            f'{{"success": true, "data": {{"asset_ticks": {{{series}}}}}}}', mimetype="application/json"
        )

    return venue


def record_mudrex(out: Path, clock: FakeClock, backoff_slept: list[float], max_calls: int) -> FakeVenue:
    venue = mudrex_venue()
    control = RunControl()
    with venue, EnvelopeWriter(out, "mudrex") as writer:
        limiter = RateLimiter(max_calls, 60.0, clock, clock.sleep)
        http = RestClient(control, Backoff(backoff_slept.append), limiter=limiter)
        end = (S0 + 2999 * HOUR_S) * 1000
        mudrex.MudrexKlines(MUDREX_SYMBOLS, "1h", S0 * 1000, end, writer, http, control, venue.url).run()
        http.close()
    return venue


def test_mudrex_pages_chunks_backs_off_on_429_and_honours_the_rate_limit(tmp_path: Path) -> None:
    out = tmp_path / "mudrex.jsonl"
    clock, backoff_slept = FakeClock(), []
    venue = record_mudrex(out, clock, backoff_slept, max_calls=2)

    asked = venue.requests_to(MUDREX_KLINES)
    window = 1440 * HOUR_S
    windows = [
        (S0, S0 + window - 1),
        (S0 + window, S0 + 2 * window - 1),
        (S0 + 2 * window, S0 + 2999 * HOUR_S),
    ]
    expected = [(first, last, n) for first, last in windows for n in (25, 5)]
    got = [
        (int(r.args["start_time"]), int(r.args["end_time"]), len(r.args["assets"].split(","))) for r in asked
    ]
    assert got == [expected[0], *expected]  # the first request again after its 429
    assert asked[0].args["assets"].split(",")[:3] == ["BTC/USDT", "ETH/USDT", "C0/USDT"]
    assert {r.args["aggregation"] for r in asked} == {"1h"}
    assert backoff_slept == [7.0]  # Retry-After beat the first backoff delay (1 s)
    assert clock.slept == [60.0, 60.0, 60.0]  # 7 requests, 2 a minute: three waits for the window to slide

    envelopes = lines_of(out)
    assert [e["interval"] for e in envelopes] == ["1h"] * 6 and all("symbol" not in e for e in envelopes)
    candles = [len(e["data"]["data"]["asset_ticks"].get("btc/usdt", [])) for e in envelopes]
    assert candles == [1440, 0, 1440, 0, 120, 0]


def test_mudrex_stops_on_a_refusal(tmp_path: Path) -> None:
    venue = FakeVenue()
    venue.app.get(MUDREX_KLINES)(
        lambda: ({"success": False, "errors": [{"code": 404, "text": "asset not found"}]}, 404)
    )
    with venue, EnvelopeWriter(tmp_path / "m.jsonl", "mudrex") as writer:
        request_ = RecordRequest(
            "mudrex", ["NOPEUSDT"], start_ms=S0 * 1000, end_ms=S0 * 1000, base_url=venue.url
        )
        with pytest.raises(RecorderError, match="HTTP 404.*asset not found"):
            make_recorder(request_, writer, RunControl()).run()
        assert writer.count == 0


def test_mudrex_round_trip(tmp_path: Path, md_db: Database) -> None:
    if not has_importer("mudrex"):
        pytest.skip("simulator.marketdata.venues.mudrex is not there yet")
    out = tmp_path / "mudrex.jsonl"
    record_mudrex(out, FakeClock(), [], max_calls=300)
    report = import_files(md_db, "mudrex", out)
    assert (report.count("kline 1h", "BTCUSDT"), report.count("kline 1h", "ETHUSDT")) == (3000, 3000)
    with md_db.read() as session:
        bar = store.kline_at(session, "ETHUSDT", "1h", (S0 + 2999 * HOUR_S) * 1000)
    assert bar is not None
    assert (bar.open_time, bar.close, bar.volume, bar.is_final) == (
        (S0 + 2999 * HOUR_S) * 1000,
        Decimal("28449.81"),
        Decimal("0.742521"),
        True,
    )


# --- TickDB ------------------------------------------------------------------------------------------

TICKDB_KLINES = "/v1/market/kline"
TICKDB_LATEST = "/v1/market/kline/latest"
API_KEY = "test-key-123"
H0 = S0 * 1000
HOUR = 3600_000


def tickdb_bar(t: int) -> str:
    return (
        f'{{"time":{t},"open":"60000.5","high":"60100","low":"59900.25","close":"60050.10","volume":"12.5"}}'
    )


def tickdb_venue() -> FakeVenue:
    venue = FakeVenue()

    @venue.app.before_request
    def require_key() -> Any:
        if request.headers.get("X-API-Key") != API_KEY:
            return {"code": 1002, "message": "API key is required. Provide via X-API-Key header"}, 401
        return None

    @venue.app.get(TICKDB_KLINES)
    def klines() -> Response:
        first, last = int(request.args["start_time"]), int(request.args["end_time"])
        limit = int(request.args["limit"])
        bars = [tickdb_bar(t) for t in range(H0, last + 1, HOUR) if t >= first][:limit]
        symbol, interval = request.args["symbol"], request.args["interval"]
        body = f'{{"symbol":"{symbol}","interval":"{interval}","klines":[{",".join(bars)}]}}'
        return Response(f'{{"code":0,"message":"success","data":{body}}}', mimetype="application/json")

    @venue.app.get(TICKDB_LATEST)
    def latest() -> Response:
        polled = len(venue.requests_to(TICKDB_LATEST)) - 1
        series = [
            f'{{"symbol":"{s}","interval":"1m","klines":[{tickdb_bar(H0 + polled * MINUTE)}]}}'
            for s in request.args["symbols"].split(",")
        ]
        return Response(
            f'{{"code":0,"message":"success","data":[{",".join(series)}]}}', mimetype="application/json"
        )

    return venue


def test_tickdb_urls() -> None:
    assert tickdb.kline_url("https://api.tickdb.ai", "BTCUSDT", "1h", 1, 2, 1000) == (
        "https://api.tickdb.ai/v1/market/kline?symbol=BTCUSDT&interval=1h&start_time=1&end_time=2&limit=1000"
    )
    assert tickdb.latest_url("https://api.tickdb.ai", ["BTCUSDT", "AAPL.US"], "1m") == (
        "https://api.tickdb.ai/v1/market/kline/latest?symbols=BTCUSDT,AAPL.US&interval=1m"
    )


def record_tickdb_history(out: Path, api_key: str = API_KEY) -> FakeVenue:
    venue = tickdb_venue()
    with venue, EnvelopeWriter(out, "tickdb") as writer:
        request_ = RecordRequest(
            "tickdb",
            ["BTCUSDT", "ETHUSDT"],
            interval="1h",
            start_ms=H0,
            end_ms=H0 + 2499 * HOUR,
            base_url=venue.url,
            api_key=api_key,
        )
        make_recorder(request_, writer, RunControl()).run()
    return venue


def test_tickdb_pages_history_by_time_with_the_api_key(tmp_path: Path) -> None:
    out = tmp_path / "tickdb.jsonl"
    venue = record_tickdb_history(out)
    asked = venue.requests_to(TICKDB_KLINES)
    assert {r.headers["X-Api-Key"] for r in asked} == {API_KEY}
    windows = [
        (H0, H0 + 1000 * HOUR - 1),
        (H0 + 1000 * HOUR, H0 + 2000 * HOUR - 1),
        (H0 + 2000 * HOUR, H0 + 2499 * HOUR),
    ]
    assert [(r.args["symbol"], int(r.args["start_time"]), int(r.args["end_time"])) for r in asked] == [
        (symbol, first, last) for symbol in ("BTCUSDT", "ETHUSDT") for first, last in windows
    ]
    assert {(r.args["interval"], r.args["limit"]) for r in asked} == {("1h", "1000")}
    envelopes = lines_of(out)
    assert [(e["symbol"], e["interval"], len(e["data"]["data"]["klines"])) for e in envelopes] == [
        (symbol, "1h", n) for symbol in ("BTCUSDT", "ETHUSDT") for n in (1000, 1000, 500)
    ]


def test_tickdb_stops_when_the_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecorderError, match="HTTP 401.*API key is required"):
        record_tickdb_history(tmp_path / "t.jsonl", api_key="wrong")


def test_tickdb_polls_the_latest_bar_every_interval(tmp_path: Path) -> None:
    out = tmp_path / "latest.jsonl"
    venue = tickdb_venue()
    clock = FakeClock()
    control = RunControl()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.slept) == 3:
            control.stop()
        control.check()

    with venue, EnvelopeWriter(out, "tickdb") as writer:
        http = RestClient(control, Backoff(clock.sleep), headers=tickdb.api_headers(API_KEY))
        poller = tickdb.TickdbLatest(
            ["BTCUSDT", "ETHUSDT"], "1m", writer, http, control, venue.url, clock=clock, sleep=sleep
        )
        poller.run()
        http.close()
    asked = venue.requests_to(TICKDB_LATEST)
    assert [r.args for r in asked] == [{"symbols": "BTCUSDT,ETHUSDT", "interval": "1m"}] * 3
    assert {r.headers["X-Api-Key"] for r in asked} == {API_KEY}
    assert clock.slept == [60.0, 60.0, 60.0]  # the interval, 1m
    envelopes = lines_of(out)
    assert [set(e) for e in envelopes] == [{"recv_ms", "venue", "data"}] * 3  # the answer names its symbols
    assert [e["data"]["data"][0]["klines"][0]["time"] for e in envelopes] == [
        H0,
        H0 + MINUTE,
        H0 + 2 * MINUTE,
    ]


def test_tickdb_round_trip(tmp_path: Path, md_db: Database) -> None:
    if not has_importer("tickdb"):
        pytest.skip("simulator.marketdata.venues.tickdb is not there yet")
    out = tmp_path / "tickdb.jsonl"
    record_tickdb_history(out)
    report = import_files(md_db, "tickdb", out)
    assert (report.count("kline 1h", "BTCUSDT"), report.count("kline 1h", "ETHUSDT")) == (2500, 2500)
    with md_db.read() as session:
        bar = store.kline_at(session, "BTCUSDT", "1h", H0 + 1234 * HOUR + 5)
    assert bar is not None
    assert (bar.open_time, bar.low, bar.close, bar.volume) == (
        H0 + 1234 * HOUR,
        Decimal("59900.25"),
        Decimal("60050.10"),
        Decimal("12.5"),
    )


# --- the command -------------------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.delenv("TICKDB_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, ["data", "record", *args])


def test_cli_records_a_range_and_appends_to_the_file(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    venue = mudrex_venue(busy_first=False)
    with venue:
        args = ["--venue", "mudrex", "--symbols", "BTCUSDT,ETH/USDT", "--interval", "1h"]
        args += ["--start", "2024-08-08T00:00:00Z", "--end", str((S0 + 9 * HOUR_S) * 1000)]
        args += ["--base-url", venue.url, "--out", str(out)]
        first = cli(*args)
        second = cli(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout == f"wrote 1 message(s) to {out}\n"
    assert "recording mudrex into" in first.stderr
    assert second.exit_code == 0, second.output
    assert [r.args for r in venue.requests_to(MUDREX_KLINES)] == [
        {
            "assets": "BTC/USDT,ETH/USDT",
            "aggregation": "1h",
            "start_time": str(S0),
            "end_time": str(S0 + 9 * HOUR_S),
        }
    ] * 2
    envelopes = lines_of(out)
    assert len(envelopes) == 2 and envelopes[0]["data"] == envelopes[1]["data"]
    assert len(envelopes[0]["data"]["data"]["asset_ticks"]["eth/usdt"]) == 10


def test_cli_records_a_live_stream_for_its_duration(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "b.jsonl"
    trades = [m for m in FIRST_CONNECTION + SECOND_CONNECTION if "@trade" in m]
    venue, ends = binance_venue([trades], SNAPSHOTS)
    with venue:
        args = ["--venue", "binance", "--symbols", "BTCUSDT", "--streams", "trade", "--duration", "2"]
        result = cli(*args, "--ws-url", venue.ws_url + "/stream", "--base-url", venue.url, "--out", str(out))
        wait_for(lambda: len(ends) == 1, "the connection to end")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote 2 message(s) to {out}\n"
    assert [raw_data(line) for line in out.read_text().splitlines()] == trades
    assert ends == ["client closed"]  # the recorder closed its connection when the duration was over


def test_cli_tickdb_takes_its_key_from_the_environment(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKDB_API_KEY", API_KEY)
    out = tmp_path / "t.jsonl"
    venue = tickdb_venue()
    with venue:
        args = ["--venue", "tickdb", "--symbols", "BTCUSDT", "--interval", "1h", "--start", str(H0)]
        result = cli(*args, "--end", str(H0 + 5 * HOUR), "--base-url", venue.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert [r.headers["X-Api-Key"] for r in venue.requests_to(TICKDB_KLINES)] == [API_KEY]
    assert len(lines_of(out)[0]["data"]["data"]["klines"]) == 6


@pytest.mark.parametrize(
    "args, message",
    [
        (["--venue", "tickdb", "--symbols", "BTCUSDT"], "TickDB needs an API key"),
        (["--venue", "mudrex", "--symbols", "BTCUSDT", "--start", "soon"], "neither ms since the epoch"),
        (["--venue", "binance", "--symbols", "BTCUSDT", "--start", "2024-08-08"], "--start does not apply"),
        (["--venue", "kucoin", "--symbols", " , "], "no symbols"),
    ],
)
def test_cli_refuses_bad_arguments(cli: Any, tmp_path: Path, args: list[str], message: str) -> None:
    result = cli(*args, "--out", str(tmp_path / "x.jsonl"))
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_reports_a_refused_request_with_what_was_written(cli: Any, tmp_path: Path) -> None:
    venue = FakeVenue()
    venue.app.get(TICKDB_KLINES)(lambda: ({"code": 2001, "message": "invalid interval"}, 200))
    with venue:
        args = ["--venue", "tickdb", "--symbols", "BTCUSDT", "--start", str(H0), "--end", str(H0)]
        result = cli(*args, "--api-key", "k", "--base-url", venue.url, "--out", str(tmp_path / "x.jsonl"))
    assert result.exit_code == 1
    assert "TickDB refused the query" in result.stderr and "(0 message(s) written to" in result.stderr
