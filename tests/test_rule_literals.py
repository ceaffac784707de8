"""A name is defined once: every state, status and outcome the frames hold is a member of an enum in
``evidence_app/reconcile/rules.py``, and no other module of the package writes one as a string literal.

What counts as a literal: a string constant whose whole text is one of the guarded names (or the ``missing_``
prefix of the operation states), anywhere in the code — a comparison, a subscript, a call argument, a dict key,
a tuple. Prose never trips it: docstrings and the literal text of f-strings are skipped, and a sentence is never
*exactly* ``"failed"`` or ``"pending"``, so common English words used in messages give no false hits; only a
bare code does. Guarded: every operation state, row status, replay state, replay outcome, route status, origin,
fix source and error class — except :data:`HOMONYMS`, names that are also everyday identifiers of other things
(a web-app page and a module are called ``replay``, a section and a file ``config``, a log shape ``other``);
the members of those are still defined in rules and used by name where they mean the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from evidence_app.reconcile import rules

PACKAGE = Path(__file__).resolve().parent.parent / "evidence_app"
RULES_FILE = PACKAGE / "reconcile" / "rules.py"
FAMILIES = (rules.OpState, rules.RowStatus, rules.ReplayState, rules.ReplayOutcome, rules.RouteStatus,
            rules.Verdict, rules.Origin, rules.FixSource, rules.ErrorClass)
HOMONYMS = frozenset({"replay", "config", "other"})
"""Guarded names that are also the names of unrelated things (see the module docstring)."""
GUARDED = frozenset(str(m) for family in FAMILIES for m in family) - HOMONYMS | {"missing_"}


def _prose(tree: ast.AST) -> set[int]:
    """Ids of the constants that are prose: docstrings and the literal pieces of f-strings."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            skipped |= {id(v) for v in node.values if isinstance(v, ast.Constant)}
    return skipped


def rule_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every guarded name written as a string literal in ``source``."""
    tree = ast.parse(source)
    prose = _prose(tree)
    return sorted((n.lineno, n.value) for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in GUARDED
                  and id(n) not in prose)


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p != RULES_FILE and "_bundled" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=[p.relative_to(PACKAGE).as_posix() for p in MODULES])
def test_no_state_or_outcome_is_written_outside_the_rules(path):
    found = rule_literals(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(PACKAGE)}: use the members of reconcile/rules.py, not {found}"


@pytest.mark.parametrize("snippet, expected", [
    ('missing = ops[ops["state"].str.startswith("missing_")]', [(1, "missing_")]),
    ('if st["abandoned"] or st["unconfirmed"]:\n    pass', [(1, "abandoned"), (1, "unconfirmed")]),
    ('counts = {s: n(s) for s in ("swept", "not_swept", "unknown")}', [(1, "not_swept"), (1, "swept"), (1, "unknown")]),
    ('bad = ~df["outcome"].isin(("inserted", "duplicate", "failed"))',
     [(1, "duplicate"), (1, "failed"), (1, "inserted")]),
    ('x = f"{states[\'pending\']} pending"', [(1, "pending")]),
])
def test_a_reintroduced_literal_is_caught(snippet, expected):
    assert rule_literals(snippet) == expected


@pytest.mark.parametrize("snippet", [
    '"""Replays that failed are retried; a duplicate row is listed."""',
    'raise ValueError("the replay failed")',
    'text = f"{n} pending, {m} abandoned"',
    'page = "replay"',
])
def test_prose_and_homonyms_are_not_literals(snippet):
    assert rule_literals(snippet) == []


def test_the_enum_members_equal_the_strings_the_frames_hold():
    assert rules.OpState.MISSING_SILENT == "missing_silent" and rules.OP_STATES[0] == "logged"
    assert type(rules.OP_STATES[0]) is str and {rules.ReplayState.PENDING: 1}["pending"] == 1
