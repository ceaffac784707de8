"""One colour-blind-safe palette (Okabe–Ito) shared by the web app's and the PDF's charts."""

from evidence_app.reconcile.rules import OpState, ReplayState, RowStatus, Verdict

BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#7F7F7F"
INK = "#1F2933"

STATE_COLOURS = {
    OpState.LOGGED: BLUE,
    OpState.REPLAYED: SKY,
    OpState.BACKFILLED: GREEN,
    OpState.MISSING_PENDING: ORANGE,
    OpState.MISSING_ABANDONED: VERMILLION,
    OpState.MISSING_SILENT: PURPLE,
    OpState.MISSING_UNPROVABLE: GREY,
    ReplayState.PENDING: ORANGE,
    ReplayState.RETRYING: YELLOW,
    ReplayState.ABANDONED: VERMILLION,
    ReplayState.UNCONFIRMED: PURPLE,
    RowStatus.ORPHAN: GREY,
    RowStatus.DUPLICATE: "#B0B0B0",
}
RESULT_COLOURS = {Verdict.MET: GREEN, Verdict.EXCEPTIONS: ORANGE, Verdict.NOT_MET: VERMILLION,
                  Verdict.NOT_APPLICABLE: INK}
#: Sequential scale for coverage heat maps, low (vermillion) → high (blue); readable without hue.
HEAT_SCALE = ((0.0, "#D55E00"), (0.5, "#F0E442"), (0.85, "#A6D8F0"), (1.0, "#0072B2"))
