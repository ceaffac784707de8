"""Reconciliation: the rules (rules.py), the states they give (states.py, replay.py) and the tables built
from them (coverage.py). The fast kernel (_kernel.py) lives behind the rules and imports them.

The names below are loaded on first use (PEP 562), so that importing ``evidence_app.reconcile.rules`` — which
the configuration does for its defaults — does not load the states, which themselves read the configuration.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidence_app.reconcile.coverage import coverage_table, exceptions_table, parse_dimensions
    from evidence_app.reconcile.replay import REPLAY_STATES, ReplayStatus, replay_status
    from evidence_app.reconcile.states import OP_STATES, Reconciliation, apply_scope, reconcile
    from evidence_app.reconcile.window import Period, Scope

_HOME = {
    "coverage_table": "coverage", "exceptions_table": "coverage", "parse_dimensions": "coverage",
    "REPLAY_STATES": "replay", "ReplayStatus": "replay", "replay_status": "replay",
    "OP_STATES": "states", "Reconciliation": "states", "apply_scope": "states", "reconcile": "states",
    "Period": "window", "Scope": "window",
}
"""Each re-exported name → the module that defines it."""

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    """Load a re-exported name from its module on first use."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
