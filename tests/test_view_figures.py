"""Figures the web app's pages show but the core computes: a drill-down selection's totals, the replay backlog."""

from __future__ import annotations

import pandas as pd

from evidence_app.reconcile.coverage import OP_STATES, totals_where, with_ratios
from evidence_app.reconcile.replay import ReplayStatus


def _table() -> pd.DataFrame:
    lines = [("2026-10-01", "anna", 3, 1), ("2026-10-01", "berk", 1, 0), ("2026-10-02", "anna", 0, 2)]
    rows = [{"day": d, "operator": o, **dict.fromkeys(OP_STATES, 0), "logged": logged, "missing_silent": silent}
            for d, o, logged, silent in lines]
    return with_ratios(pd.DataFrame(rows))


def test_a_selection_sums_only_its_lines():
    t = totals_where(_table(), day="2026-10-01", operator="anna")
    assert (t.expected, t.logged, t.missing_silent) == (4, 3, 1)


def test_a_selection_of_none_takes_every_value_of_that_column():
    t = totals_where(_table(), day=None, operator="anna")
    assert (t.expected, t.logged) == (6, 3)


def test_a_selection_ratio_is_recomputed_from_its_sums():
    assert totals_where(_table(), day="2026-10-01", operator=None).coverage_logged == 4 / 5


def test_an_empty_selection_has_no_ratio():
    t = totals_where(_table(), day="2026-10-03", operator=None)
    assert (t.expected, t.coverage_logged) == (0, None)


def test_the_backlog_is_pending_plus_retrying():
    states = {"replayed": 5, "pending": 2, "retrying": 3, "abandoned": 1, "unconfirmed": 4}
    assert ReplayStatus(states, None, None, None, None, 0).backlog == 5
