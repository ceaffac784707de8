"""The package's layers, as imports: data flows one way (ingest → reconcile → views), the rules import
nothing of the project, and the core knows nothing of the web app, the CLI or the PDF."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "evidence_app"
VIEW_LIBRARIES = ("streamlit", "click", "reportlab", "pyhanko", "plotly")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _modules(*folders: str) -> list[Path]:
    return [p for f in folders for p in sorted((PACKAGE / f).glob("*.py"))]


def test_the_rules_import_nothing_of_the_project():
    assert not {m for m in _imports(PACKAGE / "reconcile" / "rules.py") if m.startswith("evidence_app")}


def test_the_kernel_imports_the_rules():
    assert "evidence_app.reconcile.rules" in _imports(PACKAGE / "reconcile" / "_kernel.py")


@pytest.mark.parametrize("path", _modules("reconcile"), ids=lambda p: p.name)
def test_reconcile_never_reads_sources(path):
    assert not {m for m in _imports(path) if m.startswith("evidence_app.ingest")}


@pytest.mark.parametrize("path", _modules("ingest"), ids=lambda p: p.name)
def test_ingest_uses_only_the_rules_and_the_window_of_reconcile(path):
    allowed = {"evidence_app.reconcile.rules", "evidence_app.reconcile.window"}
    assert {m for m in _imports(path) if m.startswith("evidence_app.reconcile")} <= allowed


@pytest.mark.parametrize("path", _modules("ingest", "reconcile") + [PACKAGE / n for n in (
    "config.py", "masking.py", "pipeline.py", "summary.py", "controls.py", "issues.py", "sampling.py", "_text.py",
    "_order.py", "config_monitoring.py", "check.py", "webhook.py")],
    ids=lambda p: p.name)
def test_the_core_knows_nothing_of_the_views(path):
    assert not {m for m in _imports(path) if m.split(".")[0] in VIEW_LIBRARIES or m.startswith("evidence_app.ui")
                or m.startswith("evidence_app.evidence") or m == "evidence_app.cli"}


def test_kernel_id_ranks_are_the_rules_id_order():
    from evidence_app._order import text_rank
    from evidence_app._text import TEXT_DTYPE
    from evidence_app.reconcile import rules

    rng = np.random.default_rng(3)
    for _ in range(100):
        numbers, others = ["9", "10", "100", "-3", "007", "123456789012345678"], ["a", "B", "é", "", None, "1e3"]
        pool = numbers if rng.random() < 0.5 else numbers + others  # all whole numbers, or a mix
        ids = [pool[i] for i in rng.integers(0, len(pool), rng.integers(0, 12))]
        assert text_rank(pd.Series(ids, dtype=TEXT_DTYPE)).tolist() == rules.id_order(ids), ids
