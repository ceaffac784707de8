"""Remediation per route: the effective fix time and its source, silent drops before/after it, replays within the
SLA, the audit_logged cross-checks and the status — through `evidence-app remediation`."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenario import T0, iso

AS_OF = "2026-10-30T00:00:00Z"
KEYS = ["route", "effective_fixed_at", "fix_source", "expected", "missing_silent_before_fix",
        "missing_silent_after_fix", "failures", "replayed_within_sla", "replay_sla_seconds", "audit_logged_false",
        "audit_logged_false_without_failure_event", "audit_logged_true_not_logged", "status"]
PURGE, MENU = "/api/cache-purge", "/api/menu/publish"
H = timedelta(hours=1)


def summary(scenario):
    """The core's remediation summary for the whole span, judged at AS_OF (as the CLI's --as-of)."""
    from evidence_app.assess.pipeline import evaluate
    from evidence_app.assess.summary import summarize
    from evidence_app.config.settings import load_config
    from evidence_app.reconcile import Period

    data, recon = evaluate(load_config(scenario.write()), Period())
    return summarize(data, recon, datetime(2026, 10, 30, tzinfo=timezone.utc))


def routes(scenario, *args: str) -> dict:
    return {r["route"]: r for r in scenario.json("remediation", "--as-of", AS_OF, *args)}


def fix_config(fixed_at: str | None = None, sla: int | None = None, routes: dict[str, str] | None = None) -> str:
    lines = ["[remediation]"]
    if fixed_at:
        lines.append(f'fixed_at = "{fixed_at}"')
    if sla is not None:
        lines.append(f"replay_sla_seconds = {sla}")
    if routes:
        lines.append("[remediation.routes]")
        lines += [f'"{route}" = "{at}"' for route, at in routes.items()]
    return "\n".join(lines) + "\n"


def test_json_is_one_object_per_route_with_the_contract_keys_in_order(scenario):
    scenario.op("o1").row("a1").op("o2", operation="menu_publish", route=MENU)
    out = scenario.json("remediation", "--as-of", AS_OF)
    assert [r["route"] for r in out] == [PURGE, MENU]
    assert all(list(r) == KEYS for r in out)


def test_a_routes_own_fix_time_wins_over_the_global_one(scenario):
    scenario.extra_config = fix_config("2026-10-01T00:00:00Z", routes={PURGE: "2026-10-05T00:00:00Z"})
    scenario.op("o1").op("o2", operation="menu_publish", route=MENU)
    out = routes(scenario)
    assert (out[PURGE]["effective_fixed_at"], out[PURGE]["fix_source"]) == ("2026-10-05T00:00:00Z", "config")
    assert (out[MENU]["effective_fixed_at"], out[MENU]["fix_source"]) == ("2026-10-01T00:00:00Z", "config")


def test_without_configuration_the_first_failure_events_log_time_is_the_fix(scenario):
    scenario.op("o1").failure("f1", T0, logged_at=T0 + timedelta(seconds=30))
    scenario.op("o2", T0 + H).failure("f2", T0 + H)
    out = routes(scenario)[PURGE]
    assert (out["effective_fixed_at"], out["fix_source"]) == (iso(T0 + timedelta(seconds=30)), "first_failure_event")


def test_a_failure_event_before_the_period_still_dates_the_fix(scenario):
    scenario.op("o1").failure("f1", T0).op("o2", T0 + timedelta(days=2)).row("a2", T0 + timedelta(days=2))
    out = routes(scenario, "--start", "2026-10-03", "--end", "2026-10-03")[PURGE]
    assert out["fix_source"] == "first_failure_event" and out["failures"] == 0 and out["status"] == "swept"


def test_no_fix_time_and_no_drops_is_unknown(scenario):
    scenario.op("o1").row("a1")
    out = routes(scenario)[PURGE]
    assert (out["effective_fixed_at"], out["fix_source"], out["status"]) == (None, None, "unknown")


def test_silent_drops_without_any_fix_time_are_not_swept_and_count_before_the_fix(scenario):
    scenario.op("o1")
    out = routes(scenario)[PURGE]
    assert (out["missing_silent_before_fix"], out["missing_silent_after_fix"], out["status"]) == (1, 0, "not_swept")


def test_silent_drops_only_before_the_fix_are_swept(scenario):
    scenario.extra_config = fix_config(iso(T0 + H))
    scenario.op("o1").op("o2", T0 + 2 * H).row("a2", T0 + 2 * H)
    out = routes(scenario)[PURGE]
    assert (out["missing_silent_before_fix"], out["missing_silent_after_fix"], out["status"]) == (1, 0, "swept")


def test_a_silent_drop_after_the_fix_is_not_swept(scenario):
    scenario.extra_config = fix_config(iso(T0 - H))
    scenario.op("o1")
    out = routes(scenario)[PURGE]
    assert (out["missing_silent_before_fix"], out["missing_silent_after_fix"], out["status"]) == (0, 1, "not_swept")


def test_an_operation_exactly_at_the_fix_time_counts_after_it(scenario):
    scenario.extra_config = fix_config(iso(T0))
    scenario.op("o1", T0)
    assert routes(scenario)[PURGE]["missing_silent_after_fix"] == 1


def test_an_operation_one_second_before_the_fix_time_counts_before_it(scenario):
    scenario.extra_config = fix_config(iso(T0 + timedelta(seconds=1)))
    scenario.op("o1", T0)
    assert routes(scenario)[PURGE]["missing_silent_before_fix"] == 1


def test_a_route_fixed_later_than_the_others_counts_its_own_silent_drops_before_its_fix(scenario):
    scenario.extra_config = fix_config(iso(T0 - H), routes={MENU: iso(T0 + H)})
    scenario.op("o1", operation="menu_publish", route=MENU).op("o2", operation="menu_publish", route=MENU,
                                                               at=T0 + 2 * H)
    out = routes(scenario)[MENU]
    assert (out["missing_silent_before_fix"], out["missing_silent_after_fix"]) == (1, 1)


def test_a_fix_configured_after_as_of_is_not_in_force(scenario):
    scenario.extra_config = fix_config("2026-12-01T00:00:00Z")
    scenario.op("o1")
    out = routes(scenario)[PURGE]
    assert (out["fix_source"], out["status"]) == (None, "not_swept")


def test_a_routes_own_future_fix_does_not_fall_back_to_the_global_time(scenario):
    scenario.extra_config = fix_config("2026-09-01T00:00:00Z", routes={PURGE: "2026-12-01T00:00:00Z"})
    scenario.op("o1").failure("f1", T0 + H, operation="cache_purge", user="u2")
    out = routes(scenario)[PURGE]
    assert (out["effective_fixed_at"], out["fix_source"]) == (iso(T0 + H + timedelta(seconds=1)), "first_failure_event")


def test_failures_count_by_their_original_time_in_the_period(scenario):
    late_log = T0 + timedelta(days=1, hours=1)
    scenario.op("o1").failure("f1", T0, logged_at=late_log)
    scenario.op("o2", T0 + timedelta(days=1)).failure("f2", T0 + timedelta(days=1))
    first_day = routes(scenario, "--start", "2026-10-01", "--end", "2026-10-01")[PURGE]
    assert first_day["failures"] == 1


def test_a_replay_landing_exactly_at_the_sla_is_within_it(scenario):
    scenario.extra_config = fix_config(sla=600)
    scenario.op("o1").failure("f1").row("a1", origin="replay", inserted_at=T0 + timedelta(seconds=600))
    scenario.op("o2", T0 + H, user="u2").failure("f2", T0 + H, user="u2")
    scenario.row("a2", T0 + H, user="u2", origin="replay", inserted_at=T0 + H + timedelta(seconds=601))
    out = routes(scenario)[PURGE]
    assert (out["failures"], out["replayed_within_sla"], out["replay_sla_seconds"]) == (2, 1, 600)


def test_the_replay_sla_defaults_to_an_hour(scenario):
    scenario.op("o1").failure("f1").row("a1", origin="replay", inserted_at=T0 + timedelta(seconds=3600))
    out = routes(scenario)[PURGE]
    assert (out["replayed_within_sla"], out["replay_sla_seconds"]) == (1, 3600)


def test_a_pending_failure_is_not_within_the_sla(scenario):
    scenario.op("o1").failure("f1")
    out = routes(scenario)[PURGE]
    assert (out["failures"], out["replayed_within_sla"]) == (1, 0)


@pytest.mark.parametrize("stored", [0, "false", "FALSE", " false "])
def test_audit_logged_false_in_any_stored_form_is_counted(scenario, stored):
    scenario.op("o1", audit_logged=stored).failure("f1")
    out = routes(scenario)[PURGE]
    assert (out["audit_logged_false"], out["audit_logged_false_without_failure_event"]) == (1, 0)


def test_audit_logged_false_without_a_failure_event_is_counted(scenario):
    scenario.op("o1", audit_logged=0).op("o2", user="u2", audit_logged=None)
    out = routes(scenario)[PURGE]
    assert (out["audit_logged_false"], out["audit_logged_false_without_failure_event"]) == (1, 1)


@pytest.mark.parametrize("stored", [1, "true", "True"])
def test_audit_logged_true_without_a_live_row_is_counted(scenario, stored):
    scenario.op("o1", audit_logged=stored).row("a1", origin="replay")
    scenario.op("o2", T0 + H, audit_logged=stored).row("a2", T0 + H)
    assert routes(scenario)[PURGE]["audit_logged_true_not_logged"] == 1


def test_an_unrecognised_flag_reads_as_not_reported_and_is_warned_about(scenario):
    scenario.op("o1", audit_logged="yes")
    res = scenario.cli("remediation", "--as-of", AS_OF, "--format", "json")
    assert res.code == 0
    assert "unrecognised_flag in audit_logged" in res.stderr
    assert '"audit_logged_true_not_logged": 0' in res.stdout


def test_a_null_route_is_a_route_of_its_own_listed_last(scenario):
    scenario.extra_config = fix_config(iso(T0 - H))
    scenario.op("o1", route=None).op("o2", operation="menu_publish", route=MENU).row("a2", action="menu_publish")
    out = scenario.json("remediation", "--as-of", AS_OF)
    assert [r["route"] for r in out] == [MENU, None]
    assert (out[1]["missing_silent_after_fix"], out[1]["status"], out[1]["fix_source"]) == (1, "not_swept", "config")


def test_only_routes_seen_in_the_period_are_listed(scenario):
    scenario.op("o1").op("o2", T0 + timedelta(days=3), operation="menu_publish", route=MENU)
    out = scenario.json("remediation", "--as-of", AS_OF, "--start", "2026-10-01", "--end", "2026-10-01")
    assert [r["route"] for r in out] == [PURGE]


def test_a_failure_event_alone_makes_its_route_seen(scenario):
    scenario.failure("f1", route="/api/orphan-route")
    out = routes(scenario)
    assert out["/api/orphan-route"]["failures"] == 1 and out["/api/orphan-route"]["expected"] == 0


def test_csv_and_table_show_the_same_routes(scenario):
    scenario.op("o1").op("o2", operation="menu_publish", route=MENU)
    csv = scenario.cli("remediation", "--as-of", AS_OF, "--format", "csv").stdout.splitlines()
    assert csv[0] == ",".join(KEYS) and len(csv) == 3
    table = scenario.cli("remediation", "--as-of", AS_OF).stdout
    assert PURGE in table and MENU in table and "not_swept" in table


@pytest.mark.parametrize("setting, key", [
    ('[remediation]\nfixed_at = "yesterday"\n', "remediation.fixed_at"),
    ('[remediation]\nreplay_sla_seconds = -1\n', "remediation.replay_sla_seconds"),
    ('[remediation]\nsla = 5\n', "remediation.sla"),
    ('[remediation.routes]\n"/api/x" = 5\n', 'remediation.routes."/api/x"'),
])
def test_a_bad_remediation_setting_is_a_config_error_naming_the_key(scenario, setting, key):
    scenario.extra_config = setting
    scenario.op("o1")
    res = scenario.cli("remediation", "--as-of", AS_OF)
    assert res.code == 2 and key in res.stderr


def test_toml_datetimes_are_accepted_as_fix_times(scenario):
    scenario.extra_config = "[remediation]\nfixed_at = 2026-10-01T13:00:00+02:00\n"
    scenario.op("o1")
    assert routes(scenario)[PURGE]["effective_fixed_at"] == "2026-10-01T11:00:00Z"


def test_a_bad_as_of_is_a_usage_error(scenario):
    scenario.op("o1")
    res = scenario.cli("remediation", "--as-of", "soon")
    assert res.code == 2 and "--as-of" in res.stderr


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
                 st.datetimes(), st.dates(), st.lists(st.integers(), max_size=2)))
def test_fix_time_parsing_never_raises_anything_but_a_config_error(value):
    from evidence_app.config.monitoring import utc_instant
    from evidence_app.errors import ConfigError

    try:
        parsed = utc_instant(value, "remediation.fixed_at")
    except ConfigError as exc:
        assert "remediation.fixed_at" in str(exc)
    else:
        assert parsed.utcoffset() == timedelta(0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=8),
                          st.binary(max_size=6)), max_size=20))
def test_flag_parsing_never_raises_and_reads_only_the_flag_forms(values):
    import pandas as pd

    from evidence_app.ingest.flags import parse_flags

    flags, bad = parse_flags(pd.Series(values, dtype=object))
    for value, flag, unrecognised in zip(values, flags, bad):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        word = text.strip().lower() if isinstance(text, str) else None
        expected = (True if value is True or word in ("true", "1") or (not isinstance(value, bool) and value == 1)
                    else False if value is False or word in ("false", "0") or (not isinstance(value, bool) and value == 0)
                    else None)
        nan = isinstance(value, float) and math.isnan(value)  # NaN is NULL
        if nan:
            expected = None
        assert (None if flag is pd.NA else bool(flag)) == expected, value
        assert unrecognised == (expected is None and value is not None and word != "" and not nan), value


# ---------------------------------------------------------------------------------------------- the typed summary


def test_the_remediation_summary_is_frozen(scenario):
    scenario.op("o1")
    r = summary(scenario).remediation
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.silent_after_fix = 0  # type: ignore[misc]


def test_the_summary_states_the_configured_sla_even_without_a_route_to_read_it_from(scenario):
    scenario.extra_config = fix_config(sla=900)
    r = summary(scenario).remediation
    assert (r.route_count, r.replay_sla_seconds, r.swept + r.not_swept + r.unknown, r.failures) == (0, 900, 0, 0)


def test_the_summarys_facts_are_the_sums_of_the_cli_table(scenario):
    """Every scalar fact of the summary equals what the CLI's per-route JSON adds up to, the SLA is the config's,
    and the control that states the SLA states the same one."""
    from evidence_app.assess.controls import evaluate_controls
    from evidence_app.config.settings import load_config

    scenario.extra_config = fix_config(iso(T0 - H), sla=600, routes={"/api/later": "2099-01-01T00:00:00Z"})
    scenario.op("o1").failure("f1").row("a1", origin="replay", inserted_at=T0 + timedelta(seconds=600))
    scenario.op("o2", T0 + H, operation="menu_publish", route=MENU, audit_logged=False)
    scenario.op("o3", T0 + 2 * H, operation="menu_publish", route=MENU, user="u2", audit_logged=True)
    scenario.op("o4", T0 - 2 * H, route=None).op("o5", T0, route="/api/later", user="u3")
    scenario.row("a5", route="/api/later", user="u3")
    s = summary(scenario)
    r, out = s.remediation, scenario.json("remediation", "--as-of", AS_OF)
    assert r.replay_sla_seconds == load_config(scenario.write()).remediation.replay_sla_seconds == 600
    assert {row["replay_sla_seconds"] for row in out} == {600}
    assert Counter(row["status"] for row in out) == {"swept": r.swept, "not_swept": r.not_swept, "unknown": r.unknown}
    assert (r.swept, r.not_swept, r.unknown, r.route_count) == (2, 1, 1, 4)
    total = {k: sum(row[k] for row in out) for k in KEYS[3:12] if k != "replay_sla_seconds"}
    assert (r.silent_before_fix, r.silent_after_fix, r.failures, r.replayed_within_sla) == (
        total["missing_silent_before_fix"], total["missing_silent_after_fix"], total["failures"],
        total["replayed_within_sla"]) == (1, 2, 1, 1)
    assert (r.audit_logged_false, r.flag_false_without_failure_event, r.flag_true_not_logged) == (
        total["audit_logged_false"], total["audit_logged_false_without_failure_event"],
        total["audit_logged_true_not_logged"]) == (1, 1, 1)
    assert r.flag_mismatches == 2 and r.judged_at == datetime(2026, 10, 30, tzinfo=timezone.utc)
    controls = evaluate_controls(s, scenario.recon(), load_config(scenario.write()).controls)
    figures = {c.control.check: c.figures for c in controls}
    assert "within the SLA of 10 min" in figures["incident_response"]
    assert figures["remediation"].startswith("4 routes: 2 swept, 1 not swept, 1 unknown; 2 dropped silently")
