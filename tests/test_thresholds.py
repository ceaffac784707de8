"""One threshold system: [check] and [controls] are frozen dataclasses whose fields each carry a Limit and a
docstring, read by the same function."""

from __future__ import annotations

import ast
import inspect
import math
from dataclasses import fields

import pytest

from evidence_app.config.monitoring import CheckConfig, parse_check
from evidence_app.config.thresholds import ControlThresholds, Limit, limit_of, parse_controls
from evidence_app.errors import ConfigError

SECTIONS = [(CheckConfig, parse_check, "check"), (ControlThresholds, parse_controls, "controls")]


def _documented(cls: type) -> set[str]:
    """Fields of ``cls`` followed by a docstring in its source."""
    body = ast.parse(inspect.getsource(cls)).body[0].body
    return {a.target.id for a, d in zip(body, body[1:]) if isinstance(a, ast.AnnAssign)
            and isinstance(d, ast.Expr) and isinstance(d.value, ast.Constant) and isinstance(d.value.value, str)}


@pytest.mark.parametrize(("cls", "parse", "where"), SECTIONS, ids=[s[2] for s in SECTIONS])
def test_every_threshold_has_a_limit_a_docstring_and_a_default_inside_it(cls, parse, where):
    defaults = cls()
    for f in fields(cls):
        limit = limit_of(cls, f.name)
        assert isinstance(limit, Limit)
        assert limit.read(f"{where}.{f.name}", getattr(defaults, f.name)) == getattr(defaults, f.name)
    assert _documented(cls) == {f.name for f in fields(cls)}
    assert parse({}) == defaults


@pytest.mark.parametrize(("cls", "parse", "where"), SECTIONS, ids=[s[2] for s in SECTIONS])
def test_an_unknown_key_is_refused_naming_it_in_both_sections(cls, parse, where):
    with pytest.raises(ConfigError, match=rf"^{where}\.nonsense: unknown key"):
        parse({"nonsense": 1})


@pytest.mark.parametrize(("limit", "value", "ok"), [
    (Limit(float, "x", low=0.0, high=1.0), 0.0, True), (Limit(float, "x", low=0.0, high=1.0), 1.0, True),
    (Limit(float, "x", low=0.0, high=1.0), 1.0 + 1e-9, False), (Limit(float, "x", low=0.0, high=1.0), -1e-9, False),
    (Limit(float, "x", low=0.0, high=1.0, low_open=True, high_open=True), 0.0, False),
    (Limit(float, "x", low=0.0, high=1.0, low_open=True, high_open=True), 1.0, False),
    (Limit(float, "x", low=0.0, high=1.0, low_open=True, high_open=True), 0.5, True),
    (Limit(float, "x", low=0.0), math.nan, False), (Limit(float, "x", low=0.0), math.inf, False), (Limit(float, "x"), -math.inf, False),
    (Limit(float, "x"), 1, True), (Limit(float, "x"), True, False), (Limit(int, "x"), 1.0, False),
    (Limit(int, "x", low=0), 0, True), (Limit(int, "x", low=0), -1, False), (Limit(bool, "x"), 1, False),
    (Limit(tuple, "x"), ["a"], True), (Limit(tuple, "x"), [1], False), (Limit(tuple, "x"), [" "], False),
    (Limit(str, "x"), "", False), (Limit(int, "x", optional=True), None, True), (Limit(int, "x"), None, False),
])
def test_a_limit_accepts_its_range_with_the_ends_it_says(limit, value, ok):
    if ok:
        limit.read("k", value)
    else:
        with pytest.raises(ConfigError, match="^k: must be x"):
            limit.read("k", value)


def test_control_values_keep_their_meaning_when_read():
    t = parse_controls({"coverage_met_at": 1, "credential_actions": ["a"], "inaccurate_met_max": 3})
    assert t.coverage_met_at == 1.0 and isinstance(t.coverage_met_at, float)
    assert t.credential_actions == ("a",) and t.inaccurate_met_max == 3
