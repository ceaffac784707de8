"""Shared pieces of the pages: the current view (filters), errors in words, number formats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable, TypeVar

import streamlit as st

from evidence_app.errors import EvidenceError
from evidence_app.masking import mask_text
from evidence_app.reconcile import Scope

T = TypeVar("T")
VIEW_KEY = "evidence_view"


@dataclass(frozen=True)
class View:
    """What the sidebar selected: config, period and scope. Every page reads it, none changes it."""

    config_path: str | None
    start: date
    end: date
    scope: Scope

    @property
    def key(self) -> tuple:
        return (self.config_path, self.start, self.end, self.scope)

    @property
    def as_of(self) -> datetime:
        """Now, to the minute: ages move on, caches still hit within a minute."""
        return datetime.now(timezone.utc).replace(second=0, microsecond=0)


def current_view() -> View:
    return st.session_state[VIEW_KEY]


def guarded(load: Callable[[], T]) -> T:
    """Run a core call; a project error becomes st.error in words and stops the page (no traceback)."""
    try:
        return load()
    except EvidenceError as exc:
        st.error(f"**{type(exc).__name__.replace('Error', ' error')}:** {mask_text(str(exc))}")
        st.stop()
        raise  # unreachable: st.stop() raises


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def num(value: int | float | None) -> str:
    return "—" if value is None else f"{int(value):,}"


def hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def mask_secrets(text: str) -> str:
    """Hide credentials in free text (e.g. the config file shown on the Sources page)."""
    return mask_text(text)


def empty_state(message: str) -> None:
    st.info(message, icon=":material/info:")
