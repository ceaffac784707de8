"""What the web app's pages are served with and how they speak (issue 25): no Streamlit magic, a heat-map scale
readable without hue, states told apart beyond colour, verdicts with a sign, machine names in words."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from evidence_app import palette
from evidence_app.config.settings import load_config
from evidence_app.display import state_name
from evidence_app.reconcile.rules import REPLAY_STATES, ReplayState
from evidence_app.ui.serving import prepare
from evidence_app.ui.words import RESULT_MARKS, for_people, result_text, word

UI = Path(__file__).resolve().parent.parent / "evidence_app" / "ui"


def _lightness(hex_colour: str) -> float:
    """CIE L* of an sRGB colour (0 black … 100 white)."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(int(hex_colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 116 * y ** (1 / 3) - 16 if y > 216 / 24389 else y * 24389 / 27


def test_the_app_is_served_without_streamlit_magic():
    config = tomllib.loads((UI / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["magicEnabled"] is False
    argv = prepare(load_config(None), "127.0.0.1", 8501).argv
    assert argv[argv.index("--runner.magicEnabled") + 1] == "false"


def test_the_heat_map_scale_rises_in_lightness_from_low_to_high_coverage():
    stops = [stop for stop, _ in palette.HEAT_SCALE]
    light = [_lightness(colour) for _, colour in palette.HEAT_SCALE]
    assert stops == sorted(stops) and stops[0] == 0.0 and stops[-1] == 1.0
    assert all(b - a >= 10 for a, b in zip(light, light[1:])), light  # each step visibly lighter, in grey too


def test_pending_and_abandoned_differ_beyond_colour():
    patterns = [palette.STATE_PATTERNS[s] for s in REPLAY_STATES if s != ReplayState.REPLAYED]
    assert len(set(patterns)) == len(patterns)
    assert palette.STATE_PATTERNS[ReplayState.PENDING] != palette.STATE_PATTERNS[ReplayState.ABANDONED]


def test_every_control_result_carries_a_sign_beside_its_colour():
    for result in palette.RESULT_COLOURS:
        assert result_text(result) == f"{RESULT_MARKS[result]} {state_name(result)}"
    assert len(set(RESULT_MARKS.values())) == len(RESULT_MARKS)


def test_machine_names_read_as_words_and_tables_hold_no_none():
    assert word("missing_silent") == state_name("missing_silent") != "missing_silent"
    assert word("coverage_after_replay") == "Coverage after replay" and word("some_new_column") == "Some new column"
    shown = for_people(pd.DataFrame({"age_seconds": [90_000.0, None], "state": ["missing_pending", None],
                                     "created_at": pd.to_datetime(["2026-09-17T08:00:01.123456Z", None], utc=True),
                                     "coverage_logged": [0.7409, None]}),
                       durations=["age_seconds"], times=["created_at"], states=["state"], ratios=["coverage_logged"])
    assert list(shown.columns) == ["Age", "State", "Original time (UTC)", "Coverage as logged"]
    assert shown.iloc[0].tolist() == ["1 day 1 h", state_name("missing_pending"), "2026-09-17 08:00:01", "74.09%"]
    assert shown.iloc[1].tolist() == ["—"] * 4
