"""Reconciliation: the rules (rules.py), the states they give (states.py, replay.py) and the tables built
from them (coverage.py). The fast kernel (_kernel.py) lives behind the rules and imports them."""

from evidence_app.reconcile.coverage import (
    coverage_table,
    exceptions_table,
    parse_dimensions,
)
from evidence_app.reconcile.replay import REPLAY_STATES, ReplayStatus, replay_status
from evidence_app.reconcile.states import (
    OP_STATES,
    Reconciliation,
    apply_scope,
    reconcile,
)
from evidence_app.reconcile.window import Period, Scope

__all__ = [
    "OP_STATES", "REPLAY_STATES", "Period", "Reconciliation", "ReplayStatus", "Scope", "apply_scope",
    "coverage_table", "exceptions_table", "parse_dimensions", "reconcile", "replay_status",
]
