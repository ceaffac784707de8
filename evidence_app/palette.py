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
#: Sequential scale for coverage heat maps, low (dark blue) → high (light yellow): Cividis, whose lightness rises
#: monotonically, so the order of the cells reads without hue (in grey, to colour-blind readers).
HEAT_SCALE = ((0.0, "#00224E"), (0.25, "#35456C"), (0.5, "#666970"), (0.75, "#A59C74"), (1.0, "#FEE838"))
#: Fill patterns beside colour for the states a chart stacks, so pending and abandoned (and the rest) differ
#: without hue too.
STATE_PATTERNS = {
    ReplayState.PENDING: "", ReplayState.RETRYING: ".", ReplayState.ABANDONED: "x", ReplayState.UNCONFIRMED: "/",
    ReplayState.REPLAYED: "",
}
