"""Every number the product takes — evidence.toml keys and command-line options alike — is finite and in its
range, or it is refused (exit 2) naming the key or option: NaN, ±inf, a huge or a negative number never
switches a check off in silence, and never ends in a traceback."""

from __future__ import annotations

import math
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.config.monitoring import CheckConfig
from evidence_app.config.settings import load_config
from evidence_app.config.thresholds import ControlThresholds
from evidence_app.errors import ConfigError

NUMERIC_KEYS = [
    ("matching", "tolerance_seconds"), ("matching", "max_replay_attempts"),
    ("worker_logs", "max_line_bytes"), ("worker_logs", "max_file_bytes"),
    ("remediation", "replay_sla_seconds"),
    ("compute", "partitions"), ("compute", "timeout_seconds"),
    *(("check", f.name) for f in fields(CheckConfig) if f.metadata["limit"].kind in (int, float)),
    *(("controls", f.name) for f in fields(ControlThresholds) if f.metadata["limit"].kind in (int, float)),
]
HOSTILE = ["nan", "+nan", "inf", "-inf", "1e17", "1e300", "100000000000000000000000000000", "-1", "-1.5", "0",
           "0.0", "-0.0"]
CLI_OPTIONS = ["--min-coverage-after-replay", "--min-coverage-logged", "--max-pending-age", "--max-silent-after-fix",
               "--max-inaccurate"]


def _config(tmp_path, section: str, key: str, toml_value: str):
    cfg = tmp_path / "evidence.toml"
    cfg.write_text(f'[audit]\nurl = "sqlite:///a.db"\n[operations]\nurl = "sqlite:///o.db"\n'
                   f'[{section}]\n{key} = {toml_value}\n')
    (tmp_path / "a.db").touch()
    (tmp_path / "o.db").touch()
    return cfg


def _loaded(config, section: str, key: str):
    if section == "controls":
        from evidence_app.config.thresholds import parse_controls

        return getattr(parse_controls(config.controls), key)
    holder = {"matching": config.matching, "worker_logs": config.worker_logs, "remediation": config.remediation,
              "check": config.check, "compute": config.compute}[section]
    return getattr(holder, key)


@pytest.mark.parametrize("section, key", NUMERIC_KEYS, ids=[f"{s}.{k}" for s, k in NUMERIC_KEYS])
@pytest.mark.parametrize("value", HOSTILE)
def test_every_numeric_key_is_finite_and_in_range_or_refused_naming_it(tmp_path, section, key, value):
    try:
        loaded = _loaded(load_config(_config(tmp_path, section, key, value)), section, key)
    except ConfigError as exc:
        assert f"{section}.{key}" in str(exc), str(exc)
        return
    assert isinstance(loaded, (int, float)) and math.isfinite(loaded), (key, value, loaded)
    assert loaded >= 0 and abs(loaded) < 1e13, (key, value, loaded)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(NUMERIC_KEYS), st.floats(allow_nan=True, allow_infinity=True) | st.integers())
def test_no_number_in_any_key_escapes_as_anything_but_a_config_error(tmp_path_factory, where, number):
    section, key = where
    text = repr(number) if isinstance(number, int) else (
        "nan" if math.isnan(number) else "inf" if number == math.inf else "-inf" if number == -math.inf
        else repr(number))
    try:
        loaded = _loaded(load_config(_config(tmp_path_factory.mktemp("n"), section, key, text)), section, key)
    except ConfigError as exc:
        assert f"{section}.{key}" in str(exc)
        return
    assert math.isfinite(loaded)


@pytest.mark.parametrize("option", CLI_OPTIONS)
@pytest.mark.parametrize("value", HOSTILE + ["ten", "", "1_0"])
def test_every_numeric_option_is_finite_and_in_range_or_exit_2_naming_it(scenario, option, value):
    scenario.op("o1").row("a1")
    res = scenario.cli("check", "--as-of", "2026-10-02T00:00:00Z", option, value, "--format", "json")
    assert "Traceback" not in res.stderr
    if res.code == 2:
        assert option in res.stderr, res.stderr
        return
    assert res.code in (0, 1), (res.code, res.stderr)
    number = float(value)
    assert math.isfinite(number) and 0 <= number <= 1e12, (option, value)


@pytest.mark.parametrize("option, value", [("--max-pending-age", "nan"), ("--min-coverage-logged", "nan"),
                                           ("--min-coverage-after-replay", "nan"), ("--max-pending-age", "1e17")])
def test_the_numbers_the_issue_named_are_refused(scenario, option, value):
    scenario.op("o1")
    res = scenario.cli("check", "--as-of", "2026-10-02T00:00:00Z", option, value)
    assert res.code == 2 and option in res.stderr
