"""Shared pieces of the pages: the current view (filters), errors in words, number formats."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable, TypeVar

import pandas as pd
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
        st.error(f"**{type(exc).__name__.replace('Error', ' error')}:** {plain(mask_text(str(exc)), LONGEST_MESSAGE)}")
        st.stop()
        raise  # unreachable: st.stop() raises


def num(value: int | float | None) -> str:
    return "—" if value is None else f"{int(value):,}"


LONGEST = 200
"""A data value longer than this many characters is shortened for display (``…`` in the middle); downloads keep
it whole."""
LONGEST_MESSAGE = 2000
"""The same for an error's whole message (which names a key, a file and the value at fault)."""
LONGEST_LABEL = 60
"""The same for chart labels (axis ticks, hover text)."""
_INVISIBLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u206f\u3164\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]")
"""Characters that show nothing, or reorder what follows (bidi overrides and isolates), or are controls: each is
shown as its code point, ``⟨U+202E⟩``, so ``txt.exe`` cannot pose as ``exe.txt`` nor hide part of a name. Joiners
(U+200C, U+200D) stay: scripts and emoji need them."""
_PUNCTUATION = re.compile(r"([!-+\--/:-@\[-`{-~])")
"""Every ASCII punctuation character but the comma (which starts nothing, and ``1,200`` stays readable): CommonMark
lets each be backslash-escaped and then reads it as itself, so no emphasis, link, image, HTML tag, entity, heading,
list, table, math or ``:colour[…]`` directive can start."""
_AFTER_PARSING = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)|(?<=:)(?=(?:[\w+-]*[^\W\d][\w+-]*|[\w+-]*[+-][\w+-]*"
                            r"|100|1234):)", re.IGNORECASE)
"""Where Streamlit's frontend still reads text after escapes are resolved: GFM's bare links (``http://``, ``www.``,
``a@b.c``) and emoji or logo shortcodes (``:smile:``, ``:streamlit:``). A zero-width space there keeps it text."""
_DROPPED_SPACE = re.compile(r"^ | $|(?<= ) ")
"""Spaces markdown and HTML would drop (leading, trailing, the second of two): no-break spaces, so ``" acme"`` and
``"acme"`` look different."""


def shown(value: object, limit: int | None = LONGEST) -> str:
    """A data value as it is displayed anywhere (a widget option, a table cell, inside :func:`plain` and
    :func:`chart_text`): invisible and reordering characters made visible, line breaks as spaces, and longer than
    ``limit`` shortened in the middle with ``…``. Never used for what is stored, logged or downloaded."""
    text = _INVISIBLE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", " ".join(str(value).splitlines()))
    if limit is not None and len(text) > limit:
        tail = limit // 4
        text = text[:limit - tail - 1] + "…" + text[-tail:]
    return text


def plain(value: object, limit: int | None = LONGEST) -> str:
    """A data value (a name, a path, an error) as literal text inside st.markdown, st.caption, st.error, a metric,
    an expander or a radio label — every Streamlit text that reads markdown: :func:`shown`, then every ASCII
    punctuation character backslash-escaped and bare links and shortcodes broken by a zero-width space. So
    ``![x](http://…)`` shows as typed and fetches nothing; the one path for values in markdown."""
    spaced = _DROPPED_SPACE.sub("\u00a0", shown(value, limit))
    return _PUNCTUATION.sub(r"\\\1", _AFTER_PARSING.sub("\u200b", spaced))


def chart_text(value: object) -> str:
    """A data value as a Plotly label: :func:`shown` (at most ``LONGEST_LABEL`` characters), then entity-escaped, as
    Plotly reads a little HTML (``<a href>``, ``<b>``…) in labels and hover text. A shortened label ends with four hex
    digits of the value's SHA-256, so two long names alike at both ends stay two rows (Plotly merges equal labels)."""
    text = shown(value, None)
    if len(text) > LONGEST_LABEL:
        text = shown(text, LONGEST_LABEL - 6) + " #" + hashlib.sha256(str(value).encode()).hexdigest()[:4]
    return html.escape(text, quote=False)


def shown_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for st.dataframe with every text cell that holds an invisible or reordering character through
    :func:`shown`, whole (the grid draws text as text, but a bidi override would still reorder a cell)."""
    return frame.assign(**{str(c): _shown_column(frame[c]) for c in frame.columns if frame[c].dtype != "float64"})


def _shown_column(column: pd.Series) -> pd.Series:
    try:
        hit = column.str.contains(_INVISIBLE.pattern, regex=True, na=False).to_numpy(dtype=bool)
    except (AttributeError, TypeError):  # not a text column
        return column
    if not hit.any():
        return column
    out = column.astype(object).copy()
    out[hit] = [shown(x, None) for x in column[hit]]
    return out


_UNSAFE_IN_NAME = re.compile(r"[^\w.\-]+")


def file_name(name: str) -> str:
    """A download's file name from data: letters, digits, ``_ . -`` only (no path separator, control, bidi or
    shell character), runs of anything else as one ``_``, at most 120 characters, never hidden (no leading dot)."""
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    stem = _UNSAFE_IN_NAME.sub("_", stem).strip("._-")[:100] or "download"
    ext = _UNSAFE_IN_NAME.sub("", ext)[:10]
    return stem + (dot + ext if ext else "")


def mask_secrets(text: str) -> str:
    """Hide credentials in free text (e.g. the config file shown on the Sources page)."""
    return mask_text(text)


def chart(fig: object, summary: str, table: pd.DataFrame | None = None, key: str | None = None,
          where: object = st, **kwargs: object) -> object:
    """A Plotly chart with its text alternative: ``summary`` (one sentence, already markdown-safe) beneath it and,
    when given, the table behind it in an expander; returns what ``st.plotly_chart`` returns (a selection)."""
    shown_chart = where.plotly_chart(fig, width="stretch", key=key, alt=_alt(summary), **kwargs)
    where.caption(summary)
    if table is not None:
        with where.expander("The chart's figures as a table"):
            st.dataframe(shown_table(table), hide_index=True, width="stretch")
    return shown_chart


def _alt(summary: str) -> str:
    """The chart's accessible name: its summary without markdown escapes."""
    return re.sub(r"\\(.)", r"\1", summary).replace("\u200b", "")


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
