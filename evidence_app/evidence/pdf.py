"""The evidence pack's pages (reportlab platypus, A4): layout only — every number comes from the core."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timezone
from typing import Iterable, Sequence
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from evidence_app import palette
from evidence_app.assess.controls import describe_checks
from evidence_app.evidence import charts
from evidence_app.evidence.contents import DimensionViews, PackContents
from evidence_app.evidence.extracts import BREAKDOWN_NAMES, EXTRACT_NAMES, MANIFEST, Extract
from evidence_app.evidence.fonts import font_names
from evidence_app.display import state_name
from evidence_app.evidence.trust import colon_hex
from evidence_app.formatting import count, duration, iso_utc, timestamp
from evidence_app.formatting import percent as pct
from evidence_app.reconcile.bounded import BoundedView
from evidence_app.reconcile.rules import (
    FixSource,
    OpState,
    ReplayState,
    Verdict,
    describe,
    describe_accuracy_and_remediation,
    describe_log_completeness,
)

REGULAR, BOLD, MONO = font_names()

MARGIN = 18 * mm
FRAME_PAD = 6  # platypus frames pad their content by 6 pt on each side
WIDTH = A4[0] - 2 * MARGIN - 2 * FRAME_PAD
EXCEPTIONS_SHOWN = 60
REPLAY_LISTED = 15
"""Each replay list (unconfirmed, abandoned, retrying, pending) names at most this many failure events, oldest first;
every one is in replay_status.csv."""
INK = colors.HexColor(palette.INK)
HAIRLINE = colors.HexColor("#C8CED6")
ZEBRA = colors.HexColor("#F3F5F8")

_base = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle("title", parent=_base["Title"], fontName=BOLD, fontSize=24, leading=29,
                            alignment=TA_LEFT, textColor=INK, spaceAfter=6),
    "subtitle": ParagraphStyle("subtitle", parent=_base["Normal"], fontSize=12, leading=16,
                               textColor=colors.HexColor("#52606D"), spaceAfter=18),
    "h1": ParagraphStyle("h1", parent=_base["Heading1"], fontName=BOLD, fontSize=14, leading=18,
                         textColor=INK, spaceBefore=4, spaceAfter=8),
    "h2": ParagraphStyle("h2", parent=_base["Heading2"], fontName=BOLD, fontSize=10.5, leading=14,
                         textColor=INK, spaceBefore=10, spaceAfter=5),
    "body": ParagraphStyle("body", parent=_base["Normal"], fontName=REGULAR, fontSize=9, leading=12.5,
                           textColor=INK, spaceAfter=6),
    "small": ParagraphStyle("small", parent=_base["Normal"], fontName=REGULAR, fontSize=7.5, leading=9.5,
                            textColor=INK),
    "cell": ParagraphStyle("cell", parent=_base["Normal"], fontName=REGULAR, fontSize=7.5, leading=9.2,
                           textColor=INK),
    "cellb": ParagraphStyle("cellb", parent=_base["Normal"], fontName=BOLD, fontSize=7.5, leading=9.2,
                            textColor=INK),
    "box": ParagraphStyle("box", parent=_base["Normal"], fontName=REGULAR, fontSize=9, leading=12.5,
                          textColor=INK),
}


def num(value) -> str:  # noqa: ANN001
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


def when(value) -> str:  # noqa: ANN001
    """A UTC time to the second, for tables: 2026-10-08 10:20:57."""
    text = iso_utc(value) if not isinstance(value, str) else value
    return "—" if not text else text[:19].replace("T", " ")


def P(text: str, style: str = "body") -> Paragraph:
    return Paragraph(_fonts(text), STYLES[style])


def _fonts(html: str) -> str:
    """Markup names the monospace font 'MONO'; resolve it to the registered face."""
    return html.replace("face='MONO'", f"face='{MONO}'")


def E(value: object) -> str:
    return escape("" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value))


CELL_PAD = 4
"""Left and right padding of a table cell (pt)."""
_TAG = re.compile(r"(<[^>]*>)")
_BREAK_AFTER = re.compile(r"(?<=[_/])")
"""A machine name breaks after an underscore or a slash (``missing_`` / ``silent``), never inside a word."""


def wrappable(html: str, width: float, font: str = BOLD, size: float = 7.5) -> str:
    """``html`` with a line break (``<br/>``) placed after an underscore or slash inside any word wider than
    ``width``, so a table cell wraps ``missing_silent`` as ``missing_`` / ``silent`` instead of letting reportlab
    cut it mid-word; markup and words that fit are left as they are. Words are measured in the font and size in
    force (``<font face='MONO' size=6.5>`` changes them; otherwise ``font`` at ``size``, bold being the widest)."""
    fonts: list[tuple[str, float]] = [(font, size)]
    out = []
    for part in _TAG.split(html):
        if part.startswith("<"):
            _follow_font(part, fonts)
            out.append(part)
        else:
            out.append(_wrap_words(part, width, *fonts[-1]))
    return "".join(out)


_FACE = re.compile(r"face=['\"]?([\w-]+)")
_SIZE = re.compile(r"size=['\"]?([\d.]+)")


def _follow_font(tag: str, fonts: list[tuple[str, float]]) -> None:
    """Track ``<font face=… size=…>`` … ``</font>`` (the only markup that changes how wide a word is)."""
    if tag.startswith("</font"):
        if len(fonts) > 1:
            fonts.pop()
    elif tag.startswith("<font"):
        face, size = fonts[-1]
        named, sized = _FACE.search(tag), _SIZE.search(tag)
        face = (MONO if named.group(1) in ("MONO", MONO) else BOLD) if named else face
        fonts.append((face, float(sized.group(1)) if sized else size))


def _wrap_words(text: str, width: float, font: str, size: float) -> str:
    return " ".join(_wrap_word(w, width, font, size) if stringWidth(w, font, size) > width else w
                    for w in text.split(" "))


def _wrap_word(word: str, width: float, font: str, size: float) -> str:
    lines: list[str] = []
    for piece in _BREAK_AFTER.split(word):
        if lines and stringWidth(lines[-1] + piece, font, size) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return "<br/>".join(p for p in lines if p)


def table(rows: Sequence[Sequence[object]], widths: Sequence[float], header: bool = True,
          align_right: Iterable[int] = (), extra: Sequence[tuple] = ()) -> Table:
    """A house-style table: cells wrapped at word, underscore and slash boundaries, zebra rows, header repeated on
    every page."""
    def cell(c: object, i: int, j: int) -> object:
        if not isinstance(c, str):
            return c
        inner = widths[j] - 2 * CELL_PAD if j < len(widths) else WIDTH
        return Paragraph(_fonts(wrappable(c, inner)), STYLES["cellb" if header and i == 0 else "cell"])

    data = [[cell(c, i, j) for j, c in enumerate(row)] for i, row in enumerate(rows)]
    t = Table(data, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD), ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, HAIRLINE),
    ]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E4E8EE")),
                  ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK)]
    for i in range(1 if header else 0, len(rows)):
        if i % 2 == 0:
            style.append(("BACKGROUND", (0, i), (-1, i), ZEBRA))
    t.setStyle(TableStyle(style + list(extra)))
    for col in align_right:
        for row in data:
            if isinstance(row[col], Paragraph):
                row[col].style = ParagraphStyle("r", parent=row[col].style, alignment=2)
    return t


class _NumberedCanvas(rl_canvas.Canvas):
    """Draws 'page X of Y' once the total is known."""

    header: tuple[str, str, str] = ("", "", "")
    created: datetime = datetime(2000, 1, 1, tzinfo=timezone.utc)
    """The pack's generation time: the PDF's /CreationDate (and, until signing sets it again, /ModDate)."""

    def __init__(self, *args, **kwargs):  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []
        self._doc._timeStamp = _stamp(self.created)  # invariant mode keeps the file id; the dates are the pack's
        self.setViewerPreference("DisplayDocTitle", "true")  # viewers show the title, not the file name
        self.showOutline()

    def showPage(self) -> None:  # noqa: N802 - reportlab API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def running_header(self) -> None:
        """The page's header, drawn when the page begins so it comes first in reading order."""
        org, _, pack = self.header
        w, h = A4
        left, right = MARGIN + FRAME_PAD, w - MARGIN - FRAME_PAD
        self.saveState()
        self.setStrokeColor(HAIRLINE)
        self.setLineWidth(0.5)
        self.line(left, h - 12 * mm, right, h - 12 * mm)
        self.setFillColor(colors.HexColor("#52606D"))
        self.setFont(REGULAR, 7.5)
        self.drawString(left, h - 10 * mm, f"{org} — audit-trail completeness evidence")
        self.drawRightString(right, h - 10 * mm, pack)
        self.restoreState()

    def _decorate(self, total: int) -> None:
        """The footer (the page count is known only at the end), last in reading order."""
        _, period, pack = self.header
        w, _ = A4
        self.setStrokeColor(HAIRLINE)
        self.setLineWidth(0.5)
        left, right = MARGIN + FRAME_PAD, w - MARGIN - FRAME_PAD
        self.line(left, 12 * mm, right, 12 * mm)
        self.setFillColor(colors.HexColor("#52606D"))
        self.setFont(REGULAR, 7.5)
        self.drawString(left, 8 * mm, f"Period {period} · Pack {pack}")
        self.drawRightString(right, 8 * mm, f"Page {self._pageNumber} of {total}")


def _stamp(moment: datetime) -> TimeStamp:
    """reportlab's document time set to ``moment`` (UTC): the dates are the generation time, reproducibly (reportlab's
    invariant mode, kept for a deterministic file id, would otherwise write 2000-01-01)."""
    stamp = TimeStamp(invariant=1)
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    stamp.t, stamp.lt = utc.timestamp(), utc.timetuple()
    stamp.YMDhms, stamp.dhh, stamp.dmm, stamp.tzname = tuple(utc.timetuple())[:6], 0, 0, "UTC"
    return stamp


LANGUAGE = "en"
"""The pack's language (/Lang): screen readers pick their voice from it."""
OUTLINE_LEVELS = {"title": 0, "h1": 0, "h2": 1}
"""Paragraph styles that become bookmarks, and their outline level."""


class _PackDoc(SimpleDocTemplate):
    """The pack's document: every heading becomes a bookmark in the PDF's outline, in reading order."""

    def afterFlowable(self, flowable) -> None:  # noqa: ANN001, N802 - reportlab API
        level = OUTLINE_LEVELS.get(getattr(getattr(flowable, "style", None), "name", ""))
        if level is None or not isinstance(flowable, Paragraph):
            return
        key = f"h{id(flowable)}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(flowable.getPlainText(), key, level=level, closed=False)


def render(c: PackContents, manifest: dict, extracts: list[Extract], signer: str, self_signed: bool,
           signer_sha256: str) -> bytes:
    """The unsigned PDF bytes."""
    buf = io.BytesIO()
    period = c.period.label()
    doc = _PackDoc(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=18 * mm,
                   bottomMargin=17 * mm, title=f"Evidence pack {manifest['pack_id']}",
                   author="evidence-app", subject=f"Audit-trail completeness, {period}",
                   creator=f"evidence-app {c.version}", invariant=1, lang=LANGUAGE)
    header = (c.config.organisation or "Organisation", period, manifest["pack_id"])
    canvas_cls = type("PackCanvas", (_NumberedCanvas,), {"header": header, "created": c.generated_at})
    story = (_cover(c, manifest, signer, self_signed, signer_sha256) + _summary(c) + _controls(c) + _coverage(c)
             + _replay(c) + _remediation(c) + _exceptions(c) + _sample(c) + _methodology(c, manifest, extracts))
    doc.build(story, onFirstPage=_header, onLaterPages=_header, canvasmaker=canvas_cls)
    return buf.getvalue()


def _header(canvas: _NumberedCanvas, _doc: object) -> None:
    canvas.running_header()


def _kv(rows: list[tuple[str, str]], key_w: float = 45 * mm) -> Table:
    return table([[f"<b>{k}</b>", v] for k, v in rows], [key_w, WIDTH - key_w], header=False)


def _cover(c: PackContents, m: dict, signer: str, self_signed: bool, signer_sha256: str) -> list:
    t = c.summary.totals
    story = [Spacer(1, 20 * mm), P("Audit-trail completeness", "title"),
             P("Evidence pack: reconciliation of the audit trail against the operations that really happened, "
               "with replay and backfill status and a control mapping to ISO/IEC 27001 and SOC 2.", "subtitle"),
             _kv([
                 ("Organisation", E(c.config.organisation or "—")),
                 ("Scope", E(c.scope.label())),
                 *([("Access limited", f"<b>{E(c.access_limit)}</b>")] if c.access_limit else []),
                 ("Period", E(f"{c.period.label()} (UTC calendar days, inclusive)")),
                 (f"Data in the period{_unscoped(c)}", "<br/>".join(E(x.describe()) for x in c.span.sources)),
                 ("Days without any operation", E(c.span.operations_gap_line())),
                 ("Pack id", m["pack_id"]),
                 ("Generated at", timestamp(c.generated_at)),
                 ("Generator", f"evidence-app {E(c.version)}"),
                 ("Signed by", E(signer)),
                 ("Signer certificate SHA-256", f"<font face='MONO' size=5.8>{colon_hex(signer_sha256)}</font>"),
                 ("Configuration SHA-256", f"<font size=6.5>{c.config_sha256}</font>"),
                 ("Previous pack SHA-256", f"<font size=6.5>{m['previous_pack_sha256'] or 'none (first pack of the chain)'}</font>"),
             ]), Spacer(1, 8 * mm)]
    headline = (f"<b>Coverage after replay: {pct(t.coverage_after_replay)}</b> "
                f"({num(t.covered)} of {num(t.expected)} operations) · "
                f"as logged: {pct(t.coverage_logged)} · missing: {num(t.missing)}")
    story.append(_boxed(headline, palette.BLUE))
    if c.span.warning:
        story += [Spacer(1, 4 * mm), _boxed(f"<b>Warning: the period is wider than the data.</b> {E(c.span.warning)}",
                                            palette.VERMILLION)]
    if self_signed:
        story += [Spacer(1, 4 * mm), _boxed(
            "<b>Self-signed trial identity.</b> This pack is signed with a self-signed certificate "
            "(evidence-app keygen). The signature proves the file has not changed since signing; it does "
            "not prove who signed it unless the certificate's SHA-256 fingerprint above is compared with the "
            "signer's out of band. Use a certificate from your organisation's CA for audit submissions.",
            palette.VERMILLION)]
    attached = ", ".join(EXTRACT_NAMES + BREAKDOWN_NAMES)
    story += [Spacer(1, 6 * mm), P(
        f"The full machine-readable population is attached to this PDF ({attached} and {MANIFEST}) inside the "
        "revision the signature covers; where a table below names only the worst lines, the attachment it names "
        "holds every line. A text cell a spreadsheet would run as a formula (one beginning with =, +, -, @, a tab "
        "or a carriage return) carries a leading ' in the CSVs; the manifest hashes the files as attached. Check it with <font face='MONO'>evidence-app verify --signer-fingerprint SHA256</font> — the "
        "fingerprint the signer gave you out of band, not one read off this page — or with "
        "<font face='MONO'>--trust</font> your CA's certificate, or any PAdES validator.", "small"),
        PageBreak()]
    return story


def _boxed(html: str, colour: str) -> Table:
    t = Table([[P(html, "box")]], colWidths=[WIDTH])
    t.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor(colour)),
                           ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                           ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return t


def _summary(c: PackContents) -> list:
    t, s = c.summary.totals, c.summary
    if t.expected == 0:
        rows = (f" {num(s.orphans)} audit rows match no operation and {num(s.duplicates)} are duplicates."
                if s.orphans or s.duplicates else "")
        return [P("1. Summary", "h1"),
                P("<b>No operations in the period and scope</b>: there is nothing to reconcile, so this pack can "
                  f"neither show nor refute that the audit trail is complete.{rows}"), *_span_lines(c),
                P(E(s.log_completeness), "small"), Spacer(1, 6 * mm)]
    verdict = ("The audit trail is <b>complete</b> for this period and scope: every operation has an audit row "
               "and every audit row belongs to one operation." if s.complete else
               f"The audit trail is <b>not complete</b> for this period and scope: {num(t.missing)} of "
               f"{num(t.expected)} operations have no audit row ({num(t.missing_silent)} dropped silently, "
               f"{num(t.missing_unprovable)} unprovable from the logs, "
               f"{num(t.missing_pending)} awaiting replay, {num(t.missing_abandoned)} abandoned by the "
               f"replay job); {num(s.orphans)} audit rows match no operation and {num(s.duplicates)} are duplicates.")
    rows = [["Figure", "Count", "Share of expected"]]
    for label, key in (("Operations expected", "expected"), ("Logged live", OpState.LOGGED),
                       ("Replayed", OpState.REPLAYED), ("Backfilled", OpState.BACKFILLED), ("Missing", "missing"),
                       ("… missing, pending replay", OpState.MISSING_PENDING),
                       ("… missing, replay abandoned", OpState.MISSING_ABANDONED),
                       ("… missing, silent drop", OpState.MISSING_SILENT),
                       ("… missing, unprovable from the logs", OpState.MISSING_UNPROVABLE)):
        rows.append([label, num(getattr(t, key)), pct(t.share(key))])
    rows += [["Orphan audit rows (no operation)", num(s.orphans), ""],
             ["Duplicate audit rows", num(s.duplicates), ""],
             ["Inaccurate audit rows (request-id match, fields disagree)", num(s.inaccurate), ""],
             ["Incomplete audit rows (operator, tenant, action or target missing)", num(s.incomplete), ""]]
    ratios = [["Coverage", "Value"], ["Coverage as logged", pct(t.coverage_logged)],
              ["Coverage after replay (logged + replayed + backfilled)", pct(t.coverage_after_replay)]]
    return [P("1. Summary", "h1"), P(verdict), *_span_lines(c), P(E(s.log_completeness), "small"), Spacer(1, 2 * mm),
            table(rows, [WIDTH * 0.55, WIDTH * 0.2, WIDTH * 0.25], align_right=(1, 2)), Spacer(1, 4 * mm),
            table(ratios, [WIDTH * 0.75, WIDTH * 0.25], align_right=(1,)), Spacer(1, 6 * mm)]


def _span_lines(c: PackContents) -> list:
    """The period against the data, for the summary: the warning (if any), each source's span, the empty days."""
    span = c.span
    lines = [P(f"<b>Warning:</b> {E(span.warning)}")] if span.warning else []
    spans = "; ".join(E(x.describe()) for x in span.sources)
    return lines + [P(f"Data in the period {E(c.period.label())}{_unscoped(c)}: {spans}. "
                      f"{E(span.operations_gap_line())}")]


def _unscoped(c: PackContents) -> str:
    """The data span describes the sources as a whole: said so when the pack is limited to a scope."""
    return " (the sources as a whole, before the scope)" if c.scope.items() else ""


def _controls(c: PackContents) -> list:
    rows = [["Framework", "Control", "Title", "Result", "Figures behind the result"]]
    extra = []
    for i, r in enumerate(c.controls, start=1):
        colour = palette.RESULT_COLOURS[r.result]
        tested = f"<br/><font size=6.5>Tested: {E(r.population)}</font>" if r.population else ""
        rows.append([E(r.control.framework), f"<b>{E(r.control.id)}</b>",
                     f"{E(r.control.title)}<br/><font size=6.5 color='#52606D'>{E(r.control.intent)}</font>",
                     f"<font color='{colour}'><b>{E(state_name(r.result))}</b></font>", E(r.figures) + tested])
    widths = [WIDTH * 0.12, WIDTH * 0.09, WIDTH * 0.28, WIDTH * 0.16, WIDTH * 0.35]
    return [CondPageBreak(60 * mm), P("2. Control mapping", "h1"),
            P("Each result is computed from the data by the control checks documented in the methodology section "
              "(thresholds configurable under <font face='MONO'>[controls]</font>): <b>met</b>, "
              "<b>met with exceptions</b>, <b>not met</b>, or <b>not applicable</b> when the check's test population "
              "is empty (nothing was tested, so nothing is claimed; the figures say why). Each result names what was "
              f"tested.{_not_applicable_note(c)}"),
            table(rows, widths, extra=extra), PageBreak()]


def _not_applicable_note(c: PackContents) -> str:
    """One sentence counting the controls that tested nothing (none: nothing)."""
    n = sum(1 for r in c.controls if r.result == Verdict.NOT_APPLICABLE)
    if not n:
        return ""
    return f" {count(n)} of {count(len(c.controls))} controls are not applicable for this period and scope."


COVERAGE_HEAD = ["Expected", "Logged", "Replayed", "Backfilled", "Missing", "As logged", "After replay"]
COVERAGE_WIDTHS = [WIDTH * 0.26] + [WIDTH * 0.096] * 5 + [WIDTH * 0.13] * 2
"""A wider first column: an all-others label ("all others (4,985 operators)") fits on one line."""
FULL_LIST = {"operator": "coverage_by_operator.csv", "tenant": "coverage_by_tenant.csv",
             "route": "coverage_by_route.csv"}


def _coverage_rows(frame: pd.DataFrame, key: str, others_from: int | None = None) -> list[list[str]]:
    """Header + one row per line; lines from ``others_from`` on are all-others lines (label in italics)."""
    rows = [[key.capitalize()] + COVERAGE_HEAD]
    for i, r in enumerate(frame.itertuples(index=False)):
        d = r._asdict()
        name = E(d[key] if d[key] is not None else "(none)")
        rows.append([f"<i>{name}</i>" if others_from is not None and i >= others_from else name,
                     num(d["expected"]), num(d[OpState.LOGGED]), num(d[OpState.REPLAYED]), num(d[OpState.BACKFILLED]),
                     num(d["missing"]), pct(d["coverage_logged"]), pct(d["coverage_after_replay"])])
    return rows


def _bounded_table(view: BoundedView) -> Table:
    return table(_coverage_rows(view.lines, view.dimension, len(view.named)), COVERAGE_WIDTHS,
                 align_right=range(1, 8))


def _bounded_section(number: str, views: DimensionViews, chart: bool = False) -> list:
    """One dimension: a caption saying what is shown and where the rest is, the worst lines by coverage (with the
    bar chart for operators) and, when some were folded, the worst lines by missing count."""
    worst = views.by_coverage
    dimension = worst.dimension
    story = [CondPageBreak(70 * mm), P(f"{number} By {dimension}", "h2"),
             P(_sentence(worst.caption(FULL_LIST[dimension])) + ".", "small"), Spacer(1, 1.5 * mm)]
    if chart:
        story += [charts.operator_bars(worst.lines, WIDTH), Spacer(1, 3 * mm)]
    story.append(_bounded_table(worst))
    if worst.folded:
        most = views.by_missing
        story += [Spacer(1, 2 * mm), P(_sentence(most.caption()) + ":", "small"),
                  _bounded_table(most)]
    return story


def _sentence(text: str) -> str:
    """Escaped, first letter capitalised."""
    return E(text[:1].upper() + text[1:])


def _coverage(c: PackContents) -> list:
    if c.summary.totals.expected == 0:
        return [P("3. Coverage", "h1"), P("No operations in the period and scope: no coverage by operator, tenant, "
                                          "route or day to show."), PageBreak()]
    heat = c.views.heat_map
    heat_note = [P(f"Rows: {E(heat.caption())}, ranked over the whole period; every operator's days are in "
                   "coverage.csv.", "small")] if heat.folded else []
    rows = [*dict.fromkeys(heat.named["operator"].dropna()), heat.others_label] if heat.folded else None
    story = [P("3. Coverage", "h1"), *_bounded_section("3.1", c.views.operator, chart=True),
             *_bounded_section("3.2", c.views.tenant), *_bounded_section("3.3", c.views.route),
             PageBreak(), P("3.4 By day", "h2"), charts.daily_trend(c.by_day, WIDTH), Spacer(1, 3 * mm),
             P("3.5 Day × operator (coverage as logged)", "h2"),
             *heat_note,
             charts.heatmap(heat.lines, WIDTH, operators=rows),
             Spacer(1, 4 * mm), P("3.6 Daily figures", "h2"), _two_up_days(c.by_day), PageBreak()]
    return story


def _two_up_days(by_day: pd.DataFrame) -> Table:
    head = ["Day", "Exp.", "Miss.", "As logged", "After replay"]
    rows = [[r.day, num(r.expected), num(r.missing), pct(r.coverage_logged), pct(r.coverage_after_replay)]
            for r in by_day.itertuples(index=False)]
    half = (len(rows) + 1) // 2
    left, right = rows[:half], rows[half:]
    right += [[""] * 5] * (half - len(right))
    combined = [head + [""] + head] + [l + [""] + r for l, r in zip(left, right)]
    col = (WIDTH - 6 * mm) / 2
    widths = [col * 0.26, col * 0.14, col * 0.14, col * 0.23, col * 0.23]
    return table(combined, widths + [6 * mm] + widths, align_right=(1, 2, 3, 4, 7, 8, 9, 10))


def _rows_after_the_fact(c: PackContents) -> str:
    """The summary's replayed and backfilled operations, and why the failure-event tables may not show them."""
    t = c.summary.totals
    return (f"Operations covered by rows written after the fact: <b>{count(t.replayed)} replayed</b> (rows with origin "
            f"replay) and <b>{count(t.backfilled)} backfilled</b> (origin backfill), as in the summary. A backfill "
            "writes rows from another record of the operations and leaves no failure event; the figures below follow "
            "failure events (a different population), so a backfilled operation appears there only when its "
            "failure was logged.")


def _replay(c: PackContents) -> list:
    s = c.summary.replay
    head = [P("4. Replay and backfill", "h1"), P(_rows_after_the_fact(c))]
    if sum(s.states.values()) == 0:
        silent = c.summary.totals.missing_silent
        left = f" ({count(silent)} operations were dropped silently and left none)" if silent else ""
        return head + [P(f"<b>No failure events in the period</b>{left}: nothing was sent to the replay job, so "
                         f"there are no replay states, latencies or error classes to show. Skipped log lines: "
                         f"{count(s.skipped_log_lines)}."), PageBreak()]
    b = c.backlog
    st = [["Replay state", "Failure events"]] + [[E(state_name(k)), num(v)] for k, v in s.states.items()]
    lat = [["Measure", "Value"], ["Replay latency p50", duration(s.latency_p50)], ["Replay latency p95", duration(s.latency_p95)],
           ["Replay latency max", duration(s.latency_max)],
           ["Oldest pending failure (age at generation)", _age(s.oldest_pending_age_seconds)],
           ["… limit in force ([controls] pending_age_met_hours)", duration(b.pending_age_limit_seconds)],
           ["Oldest retrying failure (age at generation)", _age(b.oldest_retrying_age_seconds)],
           ["Skipped log lines", num(s.skipped_log_lines)]]
    fe = c.recon.failures
    story = [*head,
             P("Every failed audit INSERT logged by the Worker (<font face='MONO'>audit_log_insert_failed</font>) "
               "is followed through the hourly replay job. <b>Replayed</b>: a matching audit row exists now; "
               "<b>pending</b>: no attempt yet; <b>retrying</b>: attempts failed, budget left; <b>abandoned</b>: "
               "attempt budget exhausted; <b>unconfirmed</b>: the job reported success but no such row exists "
               "(an integrity finding)."),
             P(f"<b>Open backlog:</b> {E(b.headline())}."),
             Table([[table(st, [WIDTH * 0.28, WIDTH * 0.17], align_right=(1,)),
                     table(lat, [WIDTH * 0.33, WIDTH * 0.19], align_right=(1,))]],
                   colWidths=[WIDTH * 0.47, WIDTH * 0.53], style=[("VALIGN", (0, 0), (-1, -1), "TOP"),
                                                                   ("LEFTPADDING", (0, 0), (-1, -1), 0)]),
             P("Error classes", "h2"), _error_classes(c)]
    story += _open_failures(c)
    for state, title in ((ReplayState.UNCONFIRMED, "Unconfirmed replays (integrity findings)"),
                         (ReplayState.ABANDONED, "Abandoned replays")):
        part = fe[fe["state"] == state] if len(fe) else fe
        if len(part):
            rows = [["Failure id", "Original time (UTC)", "Operation", "Tenant", "Operator", "Action", "Attempts"]]
            rows += [[E(r.failure_id), when(r.created_at), E(r.operation_id), E(r.tenant), E(r.operator),
                      E(r.action), num(r.attempts)] for r in _oldest(part, REPLAY_LISTED).itertuples(index=False)]
            named = E(state_name(state).lower())
            note = ([P(f"The oldest {num(REPLAY_LISTED)} of {num(len(part))} {named} failure events; every one is in "
                       "replay_status.csv.", "small")] if len(part) > REPLAY_LISTED else [])
            story += [KeepTogether([P(title, "h2"), *note, table(rows, [WIDTH * x for x in
                                                                 (0.14, 0.19, 0.11, 0.15, 0.13, 0.18, 0.10)],
                                                          align_right=(6,))])]
    return story + [PageBreak()]


def _open_failures(c: PackContents) -> list:
    """The open backlog first (pending and retrying, oldest first): route, age, attempts and last error."""
    table_ = c.backlog.table
    if table_.empty:
        return [P("Open failures", "h2"), P("None: no failure event is pending or retrying.")]
    rows = [["Failure id", "State", "Route", "Original time (UTC)", "Age", "Attempts", "Last error"]]
    rows += [[E(r.failure_id), E(state_name(r.state)), E(r.route), when(r.created_at), duration(r.age_seconds),
              num(r.attempts), f"<font size=6.5>{E(r.last_error)}</font>"]
             for r in table_.head(REPLAY_LISTED).itertuples(index=False)]
    note = ([P(f"The oldest {num(REPLAY_LISTED)} of {num(len(table_))} open failure events; every one is in "
               "replay_status.csv.", "small")] if len(table_) > REPLAY_LISTED else [])
    widths = [WIDTH * x for x in (0.14, 0.09, 0.18, 0.18, 0.12, 0.10, 0.19)]
    return [KeepTogether([P("Open failures (pending and retrying, oldest first)", "h2"), *note,
                          table(rows, widths, align_right=(4, 5))])]


def _age(seconds: float | None) -> str:
    """An age, or "none" when there is nothing to be old (never "0 s")."""
    return "none" if seconds is None else duration(seconds)


def _error_classes(c: PackContents) -> Table | Paragraph:
    if c.error_classes.empty:
        return P("None: no failure event in the period.")
    rows = [["Error class", "Failure events"]] + [[E(state_name(r.error_class)), num(r.failures)]
                                                 for r in c.error_classes.itertuples(index=False)]
    return table(rows, [WIDTH * 0.4, WIDTH * 0.2], align_right=(1,))


def _oldest(part: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The ``limit`` oldest failure events (by original time, then failure id), in that order."""
    return part.sort_values(["created_at", "failure_id"], kind="mergesort", na_position="last").head(limit)


def _exceptions(c: PackContents) -> list:
    ex = c.exceptions
    rows = [["Kind", "Operation", "Audit row", "Time (UTC)", "Operator", "Tenant", "Action"]]
    rows += [[E(state_name(r.kind)) + (f"<br/><font size=6.5>({E(_detail(r.detail))})</font>" if r.detail else ""), E(r.operation_id),
              E(r.audit_id), when(r.occurred_at), E(r.operator), E(r.tenant), E(r.action)]
             for r in ex.head(EXCEPTIONS_SHOWN).itertuples(index=False)]
    note = (f"{num(len(ex))} exceptions in total; the first {min(len(ex), EXCEPTIONS_SHOWN)} (oldest first) are "
            f"listed here, every one of them is in the attached <font face='MONO'>exceptions.csv</font>.")
    widths = [WIDTH * x for x in (0.19, 0.10, 0.09, 0.17, 0.13, 0.14, 0.18)]
    if ex.empty:
        return [P("6. Exceptions", "h1"), P("None: no operation without its audit row, and no orphan, duplicate, "
                                            "inaccurate or incomplete audit row."), PageBreak()]
    return [P("6. Exceptions", "h1"), P(note), table(rows, widths), PageBreak()]


def _detail(detail: str) -> str:
    """An exception's detail for people: a trace named in words, field lists spaced (``tenant, operator``)."""
    named = state_name(detail)
    return named if named != _plain_caps(detail) else detail.replace(",", ", ").replace("_", " ")


def _plain_caps(text: str) -> str:
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def _sample(c: PackContents) -> list:
    p = c.sample_plan
    rows = [["#", "Operation", "Time (UTC)", "Tenant", "Operator", "Action", "State", "Audit row"]]
    rows += [[str(i), E(r.id), when(r.occurred_at), E(r.tenant), E(r.operator), E(r.action), E(state_name(r.state)),
              E(r.audit_id)] for i, r in enumerate(c.sample.itertuples(index=False), start=1)]
    text = (f"Attribute sample for re-performance: confidence {pct(p.confidence, places=0)}, tolerable deviation rate "
            f"{pct(p.tolerable_deviation, places=0)}, zero expected deviations ⇒ n = ⌈ln(1 − {p.confidence}) / "
            f"ln(1 − {p.tolerable_deviation})⌉ = <b>{p.size}</b> of {num(p.population_size)} operations. "
            f"Seed <b>{p.seed}</b>; population SHA-256 (sorted operation ids, newline-joined) "
            f"<font face='MONO' size=6.5>{p.population_sha256}</font>. Redraw with "
            f"<font face='MONO'>random.Random({p.seed}).sample(sorted(ids), {p.size})</font> in Python. "
            "For each drawn operation, locate the audit row named (or confirm its absence) in the audit store.")
    widths = [WIDTH * x for x in (0.05, 0.10, 0.19, 0.14, 0.13, 0.17, 0.11, 0.11)]
    if c.sample.empty:
        return [P("7. Re-performance sample", "h1"), P("No operations in the period and scope: nothing to sample."),
                PageBreak()]
    return [P("7. Re-performance sample", "h1"), P(text), table(rows, widths), PageBreak()]


def _methodology(c: PackContents, m: dict, extracts: list[Extract]) -> list:
    src = [["Source", "Location (password masked)", "Read-only", "Rows (table / loaded / rejected)", "Time range (UTC)"]]
    for s in c.data.sources:
        ro = E(s.read_only_mode) + (f"<br/><font color='{palette.VERMILLION}'><b>Finding:</b> {E(s.finding)}</font>"
                                    if s.finding else "")
        rng = f"{when(s.time_min)} – {when(s.time_max)}"
        listed = _listed_stores(c, s.key)
        where = (f"{num(len(listed))} stores, each in the table below" if listed else
                 f"<font face='MONO' size=6.5>{E(s.display_url)}</font>")
        src.append([E(s.key), f"{where}<br/>table {E(s.table)}", ro,
                    f"{num(s.rows_total)} / {num(s.rows_loaded)} / {num(s.rows_rejected)}", rng])
    logs = c.data.logs
    stored = f" ({num(len(logs.objects))} objects in S3/R2)" if logs.objects else ""
    how = "read only (files opened for reading" + ("; objects streamed by GET, If-Match their listed ETag)"
                                                   if logs.objects else ")")
    src.append(["worker logs", f"{len(logs.files)} Logpush files{stored}", how,
                f"{num(logs.lines_read)} lines, {num(logs.skipped_log_lines)} skipped",
                f"{num(len(logs.failures))} failure events, {num(len(logs.replays))} replay attempts"])
    fp = [["Extract", "Rows", "SHA-256"]] + [[e.name, num(e.rows), f"<font face='MONO' size=6.5>{e.sha256}</font>"]
                                             for e in extracts]
    issues = [["Source", "Problem", "Count", "Effect"]] + [
        [E(i.source), E(i.kind + (f" ({i.column})" if i.column else "")), num(i.count), E(i.effect)]
        for i in c.data.issues + c.recon.issues]
    method = [*describe(c.recon.tolerance_seconds, c.config.matching.max_replay_attempts),
              *describe_accuracy_and_remediation(c.recon.tolerance_seconds, c.summary.remediation.replay_sla_seconds),
              describe_log_completeness(c.config.worker_logs.traces, c.recon.tolerance_seconds),
              *([c.data.partitioning] if c.data.partitioning else []),
              *describe_checks(c.thresholds)]
    story = [P("8. Methodology and source fingerprints", "h1"), P("8.1 Sources", "h2"),
             table(src, [WIDTH * x for x in (0.11, 0.30, 0.24, 0.17, 0.18)]),
             *_store_lists(c),
             P("The sources were read for this pack when it was built; it never uses the web app's snapshot of an "
               "earlier read.", "small"),
             P("8.2 Matching rules", "h2")]
    story += [P(E(r)) for r in method]
    story += [P("8.3 Extract fingerprints", "h2"), table(fp, [WIDTH * 0.2, WIDTH * 0.1, WIDTH * 0.7], align_right=(1,)),
              P(f"manifest.json records these, the configuration hash and the sample seed. Pack id {m['pack_id']} "
                "is derived from the manifest. The signer certificate's SHA-256 is "
                f"<font face='MONO' size=6.5>{E(m.get('signer_sha256', ''))}</font>.", "small"),
              P("8.4 Input problems found (counted, never dropped)", "h2"),
              table(issues, [WIDTH * x for x in (0.13, 0.30, 0.09, 0.48)], align_right=(2,)) if len(issues) > 1
              else P("None.")]
    return story + _log_completeness(c) + _extraction(c)


def _listed_stores(c: PackContents, key: str) -> tuple:
    """The entries of ``[[<key>.stores]]`` (empty: one store)."""
    store = {"operations": c.config.operations, "audit": c.config.audit}.get(key)
    return store.stores if store is not None else ()


def _store_lists(c: PackContents) -> list:
    """A store configured as a list of stores: one row per store (a table's rows flow across pages, where one cell
    naming a thousand stores could not)."""
    rows = [["Store", "Tenants", "Location (password masked)"]]
    for key in ("operations", "audit"):
        rows += [[E(e.where), E(", ".join(e.tenants)), f"<font face='MONO' size=6.5>{E(e.display_url)}</font>"]
                 for e in _listed_stores(c, key)]
    if len(rows) == 1:
        return []
    split = (" Each store's tenants (with any other tenant found in its rows) formed one partition unit, read by "
             "one partition only." if c.data.partitioning else " They were read in one pass.")
    return [P("Stores configured as a list (one database per tenant): their union is the store above; each was "
              "opened read-only as the Read-only column says, and rows without a tenant column took the tenant "
              f"their entry names.{split}", "small"),
            table(rows, [WIDTH * x for x in (0.22, 0.26, 0.52)])]


GAPS_LISTED = 20
"""Gaps named in the pack's Log completeness section; ``evidence-app logs`` lists every one."""


def _log_completeness(c: PackContents) -> list:
    """8.5: what the Worker logs hold for the period and where they are silent (``evidence-app logs``)."""
    h = c.log_health
    unknown = "— (traces = failures)"
    rows = [["Figure", "Count"], ["Log files read", num(h.files)], ["Invocations in the period", num(h.invocations)],
            ["… of which truncated", num(h.truncated_invocations)],
            ["Deliveries dropped as duplicates (at least once)", num(h.duplicates_dropped)],
            ["Operations traced by an invocation", unknown if h.traced_operations is None else num(h.traced_operations)],
            ["Operations no invocation traces", unknown if h.untraced_operations is None
             else num(h.untraced_operations)],
            ["Gaps (runs of untraced operations)", num(len(h.gaps))]]
    story = [P("8.5 Log completeness", "h2"), P(E(c.summary.log_completeness)),
             table(rows, [WIDTH * 0.7, WIDTH * 0.3], align_right=(1,))]
    if h.gaps:
        gaps = [["Start (UTC)", "End (UTC)", "Operations"]] + [[when(g.start), when(g.end), num(g.operations)]
                                                              for g in h.gaps[:GAPS_LISTED]]
        story += [table(gaps, [WIDTH * 0.4, WIDTH * 0.4, WIDTH * 0.2], align_right=(2,))]
        if len(h.gaps) > GAPS_LISTED:
            story += [P(f"The first {GAPS_LISTED} of {num(len(h.gaps))} gaps; evidence-app logs lists every one.",
                        "small")]
    return story


def _extraction(c: PackContents) -> list:
    """8.6: every query as sent, with its parameters and the rows it returned; every source file by its bytes."""
    tools = ", ".join(f"{k} {v}" for k, v in (c.tools or {}).items())
    story = [P("8.6 Re-performable extraction (information produced by the entity)", "h2"),
             P("Each query below is the exact text this tool sent to the source's driver, in the driver's parameter "
               "style, with the values it bound in order. Run it read-only against the same store and compare the "
               f"number of rows with the one recorded. Tools: {E(tools)}. manifest.json holds the same records.")]
    for i, q in enumerate(c.data.queries, start=1):
        story.append(KeepTogether([
            P(f"<b>Query {i}</b> — {E(q.source)}: {E(q.purpose)}. Driver {E(q.driver)}; server {E(q.server_version)}; "
              f"paramstyle {E(q.paramstyle)}; <b>{num(q.rows_returned)} rows returned</b>.", "small"),
            P(f"<font face='MONO' size=6>{E(q.sql)}</font>", "small"),
            P(f"<font face='MONO' size=6>parameters (JSON): {E(json.dumps(q.as_json()['parameters']))}</font>", "small"),
            Spacer(1, 2 * mm)]))
    if c.files:
        rows = [["Source file", "Bytes", "SHA-256"]] + [
            [f"{E(f.role)}<br/><font size=6>{E(f.name)}{_etag(f.etag)}</font>", num(f.size),
             f"<font face='MONO' size=6.5>{f.sha256}</font>"] for f in c.files]
        story.append(table(rows, [WIDTH * 0.42, WIDTH * 0.1, WIDTH * 0.48], align_right=(1,)))
    return story


def _etag(etag: str | None) -> str:
    """An object's ETag under its name in the source-file table (files on disk have none)."""
    return f"<br/>ETag {E(etag)}" if etag else ""


_FIX_HEAD = ["Route", "Effective fix (UTC)", "Fix source", "Expected", "Silent before fix", "Silent after fix",
             "Status"]
_FLAG_HEAD = ["Route", "Failure events", "Replayed within SLA", "audit_logged false",
              "… false, no failure event", "… true, no live row"]


def _route_name(route: str | None) -> str:
    return E(route if route is not None else "(none)")


def _remediation(c: PackContents) -> list:
    """5: did the fix work, per route; were the rows that landed accurate and complete."""
    s, rem = c.summary, c.summary.remediation
    sla = rem.replay_sla_seconds
    view = c.views.remediation
    lines = view.lines
    fixes = [_FIX_HEAD] + [
        [_route_name(r.route), when(r.effective_fixed_at), E(_source(r.fix_source)), num(r.expected),
         num(r.missing_silent_before_fix), num(r.missing_silent_after_fix), f"<b>{E(state_name(r.status))}</b>"]
        for r in lines.itertuples(index=False)]
    flags = [_FLAG_HEAD] + [
        [_route_name(r.route), num(r.failures), num(r.replayed_within_sla), num(r.audit_logged_false),
         num(r.audit_logged_false_without_failure_event), num(r.audit_logged_true_not_logged)]
        for r in lines.itertuples(index=False)]
    bound = ([P(f"The {num(view.shown)} routes most in need of attention of {num(view.total)} (not swept first, then "
                "unknown, then swept; most silent drops after the fix first), all others summed in one line; every "
                "route is in remediation.csv.", "small")] if view.folded else [])
    if rem.route_count == 0:
        return [P("5. Remediation and accuracy", "h1"), P("No routes in the period and scope: nothing to assess."),
                PageBreak()]
    text = (f"{num(rem.route_count)} routes: <b>{num(rem.swept)} swept</b>, <b>{num(rem.not_swept)} not swept</b>, "
            f"{num(rem.unknown)} unknown; <b>{num(rem.silent_after_fix)} operations dropped silently after "
            f"their route's fix</b>; {num(rem.replayed_within_sla)} of {num(rem.failures)} failure events replayed "
            f"within the SLA of {duration(sla)}. Fix times judged at {timestamp(rem.judged_at)}.")
    if rem.after_fix_operations == 0:
        text += (f" <b>No fix was in force in the period</b>: no operation lies at or after its route's fix time "
                 f"({num(rem.silent_before_fix)} operations were dropped silently before it), so the period cannot "
                 "show that the fix works; a route is listed as swept when no silent drop follows its fix time.")
    flagged = any(int(getattr(rem, k)) for k in ("failures", "audit_logged_false", "flag_false_without_failure_event",
                                                  "flag_true_not_logged"))
    return [P("5. Remediation and accuracy", "h1"),
            P("Is the fix in place on every route? A route is <b>swept</b> when it has an effective fix time and no "
              "operation after it was dropped silently, <b>not swept</b> when operations after its fix time (or, "
              "without a fix time, any) were dropped silently, <b>unknown</b> otherwise. The audit_logged columns "
              "cross-check the API's response flag with the logs and the audit store."),
            P(text), *bound, table(fixes, [WIDTH * x for x in (0.25, 0.2, 0.16, 0.09, 0.1, 0.1, 0.1)], align_right=(3, 4, 5)),
            *([P(f"Failure events (by their original time in the period), replays within the SLA of {duration(sla)}, "
                 "and the API's audit_logged flag against the logs and the audit store:", "small"),
               table(flags, [WIDTH * x for x in (0.27, 0.12, 0.14, 0.13, 0.17, 0.17)], align_right=range(1, 6))]
              if flagged else
              [P("No failure events and no audit_logged flag in the period: nothing to cross-check per route.")]),
            Spacer(1, 4 * mm),
            P("Accuracy and completeness of the rows that landed", "h2"),
            P(f"<b>{num(s.inaccurate)} inaccurate</b> audit rows (matched by request id, but tenant, operator, target "
              f"or time disagree with the operation) and <b>{num(s.incomplete)} incomplete</b> rows (operator, tenant, "
              "action or target missing). Each is listed in section 6 and in exceptions.csv with the fields named; an "
              "inaccurate row is a finding of the logging controls even at full coverage."), PageBreak()]


def _source(source: str | None) -> str:
    return {FixSource.CONFIG: "config", FixSource.FIRST_FAILURE_EVENT: "first failure event"}.get(source or "", "—")
