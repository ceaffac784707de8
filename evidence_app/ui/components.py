"""Shared pieces of the pages: the current view (filters), errors in words, number formats."""

from __future__ import annotations

import html
import re
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
        st.error(f"**{type(exc).__name__.replace('Error', ' error')}:** {plain(mask_text(str(exc)))}")
        st.stop()
        raise  # unreachable: st.stop() raises


def num(value: int | float | None) -> str:
    return "—" if value is None else f"{int(value):,}"


_INLINE = re.compile(r"([\\`*_\[\]<>~$|])")
"""Characters markdown, HTML, math or Streamlit's ``:colour[…]`` directives read anywhere in a line."""
_LEADING = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")
"""What makes a heading, quote, list or setext line, only at the start (lines are joined first)."""
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
"""Where GFM would turn bare text into a link after parsing (``http://``, ``www.``, ``a@b.c``): a zero-width
space there keeps it text."""


def plain(value: object) -> str:
    """A data value (a name, a path, an error) as literal text inside st.markdown, st.caption, st.error…:
    every character markdown, HTML, math or Streamlit's directives could read is backslash-escaped, bare
    URLs are kept from becoming links, line breaks become spaces. So ``![x](http://…)`` shows as typed
    and fetches nothing."""
    text = _AUTOLINK.sub("\u200b", " ".join(str(value).splitlines()))
    text = _INLINE.sub(r"\\\1", text)
    return _LEADING.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2).isdigit() else m.group(2) + "\\"),
                        text, count=1)


def chart_text(value: object) -> str:
    """A data value as a Plotly label: Plotly reads a little HTML (``<a href>``, ``<b>``…) in labels, so
    it is entity-escaped (shown as typed; :func:`html.unescape` gives the value back, e.g. on a click)."""
    return html.escape(str(value), quote=False)


def mask_secrets(text: str) -> str:
    """Hide credentials in free text (e.g. the config file shown on the Sources page)."""
    return mask_text(text)


def empty_state(message: str) -> None:
    st.info(message, icon=":material/info:")


class LoadingBar:
    """A progress bar with counts while the sources are read: rows per store and log files, against the totals
    the sources' fingerprints announced (``snapshot.EXPECTED`` stages). Called as a ``Progress``; redraws at most
    every ``every`` seconds, and disappears with ``close``."""

    STAGES = ("operations", "audit rows", "log files")

    def __init__(self, every: float = 0.2) -> None:
        import time

        self._clock = time.monotonic
        self._every = every
        self._last = 0.0
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}
        self._bar = st.progress(0.0, text="Checking the sources…")

    def __call__(self, stage: str, units: int) -> None:
        from evidence_app.persistence.snapshot import EXPECTED

        if stage.startswith(EXPECTED):
            self._total[stage.removeprefix(EXPECTED)] = units
        else:
            self._done[stage] = self._done.get(stage, 0) + units
        if self._clock() - self._last >= self._every:
            self._last = self._clock()
            self._bar.progress(self.fraction(), text=self.text())

    def fraction(self) -> float:
        """Rows and files read ÷ announced (0 until something is announced; never above 1)."""
        total = sum(self._total.values())
        return min(1.0, sum(self._done.values()) / total) if total else 0.0

    def text(self) -> str:
        parts = []
        for stage in self.STAGES:
            done, total = self._done.get(stage, 0), self._total.get(stage)
            parts.append(f"{stage} {done:,}" + (f" of {total:,}" if total is not None else ""))
        return "Reading the sources: " + " · ".join(parts)

    def close(self) -> None:
        self._bar.empty()
