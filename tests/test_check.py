"""`evidence-app check`: thresholds → ok or breaches, exit 0/1/2/3, and the webhook POST (to a local server only)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.assess.webhook import checked_url, masked, post_json
from evidence_app.errors import UsageError

from scenario import T0, iso

AS_OF = ["--as-of", "2026-10-02T00:00:00Z"]
H = timedelta(hours=1)


class _Hook(BaseHTTPRequestHandler):
    status = 200
    received: list

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append({"path": self.path, "type": self.headers.get("Content-Type"), "body": json.loads(body)})
        self.send_response(self.status)
        if 300 <= self.status < 400:
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002 - keep test output quiet
        pass


@pytest.fixture
def hook():
    """A webhook receiver on 127.0.0.1, a random free port; yields (base URL, handler class)."""
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def healthy(scenario):
    """Three operations, all logged live; one failure replayed within minutes."""
    scenario.op("o1").row("a1").op("o2", T0 + H, user="u2").row("a2", T0 + H, user="u2")
    scenario.op("o3", T0 + 2 * H).failure("f3", T0 + 2 * H)
    scenario.row("a3", T0 + 2 * H, origin="replay", inserted_at=T0 + 2 * H + timedelta(minutes=5))
    scenario.replay("f3", 1, "inserted", T0 + 2 * H + timedelta(minutes=5))
    return scenario


def check(scenario, *args: str):
    res = scenario.cli("check", *AS_OF, "--format", "json", *args)
    return res.code, (json.loads(res.stdout) if res.stdout.strip().startswith("{") else None), res.stderr


def test_all_thresholds_holding_is_ok_and_exit_0(scenario):
    code, out, _ = check(healthy(scenario), "--min-coverage-after-replay", "1", "--min-coverage-logged", "0.6")
    assert code == 0
    assert out == {"ok": True, "period": [None, None], "as_of": "2026-10-02T00:00:00Z", "breaches": [],
                   "figures": {"coverage_after_replay": 1.0, "coverage_logged": 2 / 3, "oldest_pending_age_seconds": None,
                               "missing_silent_after_fix": 0, "missing_unprovable": 0, "inaccurate": 0,
                               "unconfirmed": 0},
                   "not_applicable": []}


def test_coverage_below_the_minimum_is_a_breach_and_exit_1(scenario):
    code, out, _ = check(healthy(scenario), "--min-coverage-logged", "0.9")
    assert code == 1 and out["ok"] is False
    assert out["breaches"] == [{"rule": "min_coverage_logged", "value": 2 / 3, "limit": 0.9}]


def test_coverage_exactly_at_the_minimum_holds(scenario):
    code, out, _ = check(healthy(scenario), "--min-coverage-after-replay", "1.0")
    assert code == 0 and out["breaches"] == []


def test_the_period_is_reported_and_selects_the_figures(scenario):
    healthy(scenario).op("o9", T0 + timedelta(days=1))
    code, out, _ = check(scenario, "--start", "2026-10-01", "--end", "2026-10-01", "--min-coverage-after-replay", "1")
    assert code == 0 and out["period"] == ["2026-10-01", "2026-10-01"]


def test_a_pending_failure_older_than_allowed_is_a_breach(scenario):
    scenario.op("o1").failure("f1")
    code, out, _ = check(scenario, "--max-pending-age", "3600")
    assert code == 1
    age = 12 * 3600  # pending since 2026-10-01T12:00:00Z, measured at 2026-10-02T00:00:00Z
    assert out["figures"]["oldest_pending_age_seconds"] == age
    assert out["breaches"] == [{"rule": "max_pending_age", "value": age, "limit": 3600}]


def test_silent_drops_after_the_fix_beyond_the_limit_are_a_breach(scenario):
    scenario.extra_config = f'[remediation]\nfixed_at = "{iso(T0 - H)}"\n'
    scenario.op("o1")
    code, out, _ = check(scenario, "--max-silent-after-fix", "0")
    assert code == 1 and out["breaches"] == [{"rule": "max_silent_after_fix", "value": 1, "limit": 0}]


def test_silent_drops_after_the_fix_within_the_limit_hold(scenario):
    scenario.extra_config = f'[remediation]\nfixed_at = "{iso(T0 - H)}"\n'
    scenario.op("o1")
    code, out, _ = check(scenario, "--max-silent-after-fix", "1")
    assert code == 0 and out["figures"]["missing_silent_after_fix"] == 1


def test_an_inaccurate_row_beyond_the_limit_is_a_breach_even_at_full_coverage(scenario):
    scenario.op("o1", request_id="q1").row("a1", user="u9", request_id="q1")
    code, out, _ = check(scenario, "--min-coverage-after-replay", "1", "--max-inaccurate", "0")
    assert code == 1 and out["breaches"] == [{"rule": "max_inaccurate", "value": 1, "limit": 0}]


def test_a_threshold_set_nowhere_is_not_checked(scenario):
    scenario.extra_config = f'[remediation]\nfixed_at = "{iso(T0 - H)}"\n'
    scenario.op("o1", request_id="q1").row("a1", user="u9", request_id="q1").op("o2", T0 + H, user="u2")
    code, out, _ = check(scenario)
    assert code == 0 and out["breaches"] == []
    assert (out["figures"]["inaccurate"], out["figures"]["missing_silent_after_fix"]) == (1, 1)


def test_unconfirmed_replays_fail_by_default_and_may_be_allowed(scenario):
    scenario.op("o1").failure("f1").replay("f1", 1, "inserted", T0 + H)
    code, out, _ = check(scenario)
    assert code == 1 and out["breaches"] == [{"rule": "fail_on_unconfirmed", "value": 1, "limit": 0}]
    code, out, _ = check(scenario, "--allow-unconfirmed")
    assert code == 0 and out["ok"] is True


def test_breaches_are_listed_in_rule_order(scenario):
    scenario.op("o1", request_id="q1").row("a1", user="u9", request_id="q1").op("o2", T0 + H, user="u2")
    code, out, _ = check(scenario, "--max-inaccurate", "0", "--min-coverage-after-replay", "0.9",
                         "--min-coverage-logged", "0.9")
    assert code == 1
    assert [b["rule"] for b in out["breaches"]] == ["min_coverage_after_replay", "min_coverage_logged", "max_inaccurate"]


def test_thresholds_come_from_the_check_section(scenario):
    scenario.extra_config = "[check]\nmin_coverage_logged = 0.9\nmax_inaccurate = 5\n"
    code, out, _ = check(healthy(scenario))
    assert code == 1 and out["breaches"] == [{"rule": "min_coverage_logged", "value": 2 / 3, "limit": 0.9}]


def test_an_option_overrides_the_check_section(scenario):
    scenario.extra_config = "[check]\nmin_coverage_logged = 0.9\n"
    code, out, _ = check(healthy(scenario), "--min-coverage-logged", "0.5")
    assert code == 0 and out["ok"] is True


def test_an_empty_period_breaks_no_coverage_minimum(scenario):
    code, out, _ = check(healthy(scenario), "--start", "2027-01-01", "--end", "2027-01-01",
                         "--min-coverage-after-replay", "1")
    assert code == 0 and out["figures"]["coverage_after_replay"] is None


def test_a_limit_with_nothing_to_test_is_stated_not_applicable_not_silently_passed(scenario):
    code, out, _ = check(healthy(scenario), "--start", "2027-01-01", "--end", "2027-01-01",
                         "--min-coverage-after-replay", "1", "--max-pending-age", "60", "--max-inaccurate", "0")
    assert code == 0 and out["breaches"] == []
    assert out["not_applicable"] == [
        {"rule": "min_coverage_after_replay", "reason": "no operations in the period and scope"},
        {"rule": "max_pending_age", "reason": "no pending failure event"},
        {"rule": "max_inaccurate", "reason": "no operations in the period and scope"},
        {"rule": "fail_on_unconfirmed", "reason": "no failure events in the period"}]


def test_a_limit_not_set_is_not_listed_as_not_applicable(scenario):
    code, out, _ = check(healthy(scenario), "--start", "2027-01-01", "--end", "2027-01-01", "--allow-unconfirmed")
    assert code == 0 and out["not_applicable"] == []


def test_silent_drops_after_a_fix_not_yet_in_force_are_not_applicable(scenario):
    scenario.extra_config = '[remediation]\nfixed_at = "2026-10-05T00:00:00Z"\n'
    scenario.op("o1").op("o2", T0 + H).row("a2", T0 + H)  # o1 dropped silently, before the fix
    code, out, _ = check(scenario, "--max-silent-after-fix", "0")
    assert code == 0 and out["figures"]["missing_silent_after_fix"] == 0
    assert {"rule": "max_silent_after_fix",
            "reason": "no fix in force in the period: no operation at or after its route's fix time"} \
        in out["not_applicable"]


def test_unprovable_is_not_applicable_when_the_logs_hold_failures_only(scenario):
    code, out, _ = check(healthy(scenario), "--max-unprovable", "0")
    assert code == 0 and out["not_applicable"][0]["rule"] == "max_unprovable"
    assert "traces = \"failures\"" in out["not_applicable"][0]["reason"]


def test_the_table_and_the_text_name_the_untested_limits(scenario):
    res = healthy(scenario).cli("check", *AS_OF, "--start", "2027-01-01", "--end", "2027-01-01",
                                "--min-coverage-logged", "0.9")
    assert res.code == 0 and "NOT APPLICABLE min_coverage_logged" in res.stdout
    assert "no operations in the period and scope" in res.stdout


@pytest.mark.parametrize("setting, key", [
    ("[check]\nmin_coverage_logged = 1.5\n", "check.min_coverage_logged"),
    ("[check]\nmax_inaccurate = -1\n", "check.max_inaccurate"),
    ("[check]\nfail_on_unconfirmed = 1\n", "check.fail_on_unconfirmed"),
    ("[check]\nminimum = 1\n", "check.minimum"),
    ('[check]\nwebhook = "file:///etc/passwd"\n', "check.webhook"),
])
def test_a_bad_check_setting_is_a_config_error_exit_2(scenario, setting, key):
    scenario.extra_config = setting
    code, out, err = check(healthy(scenario))
    assert code == 2 and key in err and out is None


@pytest.mark.parametrize("args", [["--min-coverage-logged", "2"], ["--max-inaccurate", "-1"], ["--max-pending-age", "x"]])
def test_a_bad_option_is_a_usage_error_exit_2(scenario, args):
    code, _, _ = check(healthy(scenario), *args)
    assert code == 2


def test_table_format_lists_the_figures_and_the_breaches(scenario):
    res = healthy(scenario).cli("check", *AS_OF, "--min-coverage-logged", "0.9")
    assert res.code == 1
    assert "coverage_logged" in res.stdout and "BREACH min_coverage_logged" in res.stdout


def test_the_webhook_receives_the_result_and_a_one_line_text(scenario, hook):
    url, handler = hook
    code, out, _ = check(healthy(scenario), "--min-coverage-logged", "0.9", "--webhook", f"{url}/hooks/ci")
    assert code == 1
    (posted,) = handler.received
    assert posted["path"] == "/hooks/ci" and posted["type"].startswith("application/json")
    body = posted["body"]
    assert {k: v for k, v in body.items() if k != "text"} == out
    assert "\n" not in body["text"] and "FAILED" in body["text"] and "min_coverage_logged" in body["text"]
    assert body["text"].startswith("Test GmbH: ")


def test_the_webhook_is_posted_when_everything_holds_too(scenario, hook):
    url, handler = hook
    code, _, _ = check(healthy(scenario), "--webhook", url)
    assert code == 0 and handler.received[0]["body"]["ok"] is True and "OK" in handler.received[0]["body"]["text"]


def test_the_webhook_may_come_from_the_check_section(scenario, hook):
    url, handler = hook
    scenario.extra_config = f'[check]\nwebhook = "{url}/from-config"\n'
    code, _, _ = check(healthy(scenario))
    assert code == 0 and handler.received[0]["path"] == "/from-config"


def test_a_webhook_answering_an_error_exits_3_and_says_so(scenario, hook):
    url, handler = hook
    handler.status = 500
    code, out, err = check(healthy(scenario), "--webhook", url)
    assert code == 3 and out["ok"] is True
    assert "webhook" in err and "HTTP 500" in err


def test_a_redirecting_webhook_is_not_followed(scenario, hook):
    url, handler = hook
    handler.status = 307
    code, _, err = check(healthy(scenario), "--webhook", url)
    assert code == 3 and "HTTP 307" in err and len(handler.received) == 1


def test_an_unreachable_webhook_exits_3_and_says_so(scenario, hook):
    url, handler = hook
    closed = url.rsplit(":", 1)[0] + ":9"  # discard port on 127.0.0.1: nothing listens there
    code, _, err = check(healthy(scenario), "--webhook", closed)
    assert code == 3 and "unreachable" in err and handler.received == []


def test_webhook_credentials_never_appear_in_messages(scenario, hook):
    url, handler = hook
    handler.status = 503
    secret = url.replace("http://", "http://bot:s3cr3t-pass@") + "/T0KEN-PATH?token=s3cr3t-query"
    code, out, err = check(healthy(scenario), "--webhook", secret)
    assert code == 3
    for leaked in ("s3cr3t-pass", "T0KEN-PATH", "s3cr3t-query"):
        assert leaked not in err and leaked not in json.dumps(out)
    assert "bot:***@127.0.0.1" in err


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "http://", "127.0.0.1:80/x", "http://h:port/"])
def test_only_http_urls_with_a_host_are_accepted_exit_2(scenario, url):
    code, out, err = check(healthy(scenario), "--webhook", url)
    assert code == 2 and "--webhook" in err and out is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_webhook_url_parsing_never_raises_anything_but_a_usage_error(text):
    try:
        url = checked_url(text)
    except UsageError:
        url = None
    if url is not None:
        assert urlsplit(url).scheme.lower() in ("http", "https") and urlsplit(url).hostname
    assert isinstance(masked(text), str)


_TOML_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=12),
                         st.datetimes(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                                               st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["min_coverage_after_replay", "min_coverage_logged", "max_pending_age",
                                        "max_silent_after_fix", "max_inaccurate", "fail_on_unconfirmed", "webhook",
                                        "webhook_timeout_seconds", "other"]), _TOML_VALUES, max_size=4))
def test_check_section_parsing_never_raises_anything_but_a_config_error(section):
    from evidence_app.config.monitoring import parse_check
    from evidence_app.errors import ConfigError

    section = {k: v for k, v in section.items() if v is not None}  # TOML has no null
    try:
        parsed = parse_check(section)
    except ConfigError as exc:
        assert str(exc).startswith("check.")
    else:
        assert parsed.min_coverage_logged is None or 0 <= parsed.min_coverage_logged <= 1
        assert parsed.webhook_timeout_seconds > 0


# ------------------------------------------------------------------ one deadline; credentials as Basic authorization

class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 and keeps the request line and the headers it was sent (a target, or a plain HTTP proxy)."""

    seen: list

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append({"line": self.requestline, "host": self.headers.get("Host"),
                          "auth": self.headers.get("Authorization"), "all": str(self.headers)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def recorder():
    handler = type("Recorder", (_Recorder,), {"seen": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def dripping():
    """A server that accepts, then sends one byte every 0.2 s (at most 60 s): a read timeout never fires."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 300:
                    if stop.wait(0.2):
                        break
                    conn.sendall(bytes([byte]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    stop.set()
    thread.join(5)
    listener.close()


def test_a_dripping_webhook_cannot_hold_the_check_past_its_deadline(scenario, dripping):
    scenario.extra_config = "[check]\nwebhook_timeout_seconds = 1.5\n"
    started = time.monotonic()
    code, out, err = check(healthy(scenario), "--webhook", dripping)
    elapsed = time.monotonic() - started
    assert code == 3 and out["ok"] is True
    assert "no complete answer within 1.5 s" in err
    assert elapsed < 30  # the whole check; the server would drip for a minute


def test_userinfo_is_sent_as_basic_authorization_never_in_the_request_line_or_host(scenario, recorder):
    port, handler = recorder
    code, _, err = check(healthy(scenario), "--webhook", f"http://bot:s3cr%40t@127.0.0.1:{port}/hooks/ci?x=1")
    assert code == 0, err
    (seen,) = handler.seen
    assert seen["line"] == "POST /hooks/ci?x=1 HTTP/1.1" and seen["host"] == f"127.0.0.1:{port}"
    assert seen["auth"] == "Basic " + base64.b64encode(b"bot:s3cr@t").decode()
    assert "s3cr" not in seen["line"] + seen["host"]


def test_through_a_proxy_the_password_stays_out_of_the_request_line_and_host(scenario, recorder, monkeypatch):
    port, proxy = recorder  # a plain HTTP proxy sees the absolute URL in its request line
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    code, _, err = check(healthy(scenario), "--webhook", "http://bot:s3cr3t@hooks.invalid:8080/T0KEN")
    assert code == 0, err
    (seen,) = proxy.seen
    assert seen["line"] == "POST http://hooks.invalid:8080/T0KEN HTTP/1.1", seen["line"]
    assert seen["host"] == "hooks.invalid:8080"
    assert seen["auth"] == "Basic " + base64.b64encode(b"bot:s3cr3t").decode()
    assert "s3cr3t" not in seen["line"] + seen["host"] and "s3cr3t" not in err


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), 0.0, -1.0, 1e17])
def test_a_deadline_that_is_not_a_finite_number_of_seconds_is_a_usage_error(timeout):
    with pytest.raises(UsageError, match="webhook timeout"):
        post_json("http://127.0.0.1:9/x", {}, timeout)


def test_unprovable_operations_beyond_max_unprovable_are_a_breach(scenario):
    scenario.op("o1").op("o2", T0 + H)
    scenario.extra_config = 'traces = "all"\n'
    code, out, _ = check(scenario, "--max-unprovable", "1")
    assert code == 1 and out["figures"]["missing_unprovable"] == 2
    assert [b["rule"] for b in out["breaches"]] == ["max_unprovable"]
    code, out, _ = check(scenario, "--max-unprovable", "2")
    assert code == 0 and out["breaches"] == []
