"""The package's layers, as imports, derived from where a module lives: data flows one way (config → ingest →
reconcile → assess → views), the rules import nothing of the project, and the core knows nothing of the web app,
the CLI or the PDF. Every module is checked by default: a new top-level module or package must be given a layer
here before this test passes."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "evidence_app"
VIEW_LIBRARIES = ("streamlit", "click", "reportlab", "pyhanko", "plotly")

LAYERS: dict[str, int] = {
    # cross-cutting: errors, shipped files, masking, counted input problems, column primitives, formatting
    "__init__": 0, "errors": 0, "resources": 0, "masking": 0, "issues": 0, "columns": 0,
    "palette": 0, "render": 0, "privacy": 0, "formatting": 0, "display": 0,
    "config": 1,                        # evidence.toml → typed settings
    "ingest": 2, "reconcile": 2,        # sources → canonical frames; frames → states (never each other, see below)
    "assess": 3,                        # judgements over a reconciliation: summary, controls, sample, check
    "persistence": 4, "access": 4,      # what the product keeps: the web app's snapshot, the access log
    "compute": 4,                       # the period in exact partitions (routing, executor seam, merge)
    "evidence": 5, "ui": 6, "cli": 7, "__main__": 7,  # views and entry points
}
"""Layer of each top-level module or package: a module imports only from its own layer or lower ones."""
CORE = 4
"""Layers up to this one are the core: no view library, no view package."""
# Within a layer, the two core packages of layer 2 stay apart except through the rules and the window.
RULES = "evidence_app.reconcile.rules"
"""The rules import nothing of the project (a test below), so every layer may read the names they define once."""
INGEST_MAY_USE_FROM_RECONCILE = {"evidence_app.reconcile", "evidence_app.reconcile.rules",
                                 "evidence_app.reconcile.window"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "evidence_app":  # ``from evidence_app import palette`` imports a module
                found |= {f"evidence_app.{a.name}" for a in node.names
                          if (PACKAGE / f"{a.name}.py").is_file() or (PACKAGE / a.name).is_dir()}
    return found


def _top(module: str) -> str:
    """``evidence_app.reconcile.rules`` → ``reconcile``; ``evidence_app`` → ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(rel.parts)


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "_bundled" not in p.parts)
IDS = [p.relative_to(PACKAGE).as_posix() for p in MODULES]


def _own(path: Path) -> set[str]:
    return {m for m in _imports(path) if m == "evidence_app" or m.startswith("evidence_app.")}


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_every_module_has_a_layer(path):
    assert _top(_module_name(path)) in LAYERS, f"{_module_name(path)}: give its package a layer in LAYERS"


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_imports_flow_one_way(path):
    layer = LAYERS.get(_top(_module_name(path)))
    upward = {m for m in _own(path) if m not in ("evidence_app", RULES) and LAYERS.get(_top(m), 99) > (layer or 0)}
    assert not upward, f"{_module_name(path)} (layer {layer}) imports from a later layer: {sorted(upward)}"


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_the_core_knows_nothing_of_the_views(path):
    if LAYERS.get(_top(_module_name(path)), 99) > CORE:
        pytest.skip("a view")
    view_libs = {m for m in _imports(path) if m.split(".")[0] in VIEW_LIBRARIES}
    assert not view_libs, f"{_module_name(path)} imports a view library: {sorted(view_libs)}"


@pytest.mark.parametrize("path", [p for p in MODULES if _top(_module_name(p)) == "reconcile"],
                         ids=lambda p: p.name)
def test_reconcile_never_reads_sources(path):
    assert not {m for m in _own(path) if _top(m) in ("ingest", "persistence")}


@pytest.mark.parametrize("path", [p for p in MODULES if _top(_module_name(p)) == "ingest"], ids=lambda p: p.name)
def test_ingest_uses_only_the_rules_and_the_window_of_reconcile(path):
    assert {m for m in _own(path) if _top(m) == "reconcile"} <= INGEST_MAY_USE_FROM_RECONCILE


def test_the_layers_of_this_test_name_only_what_exists():
    present = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
               if (p.is_file() and p.suffix == ".py") or (p / "__init__.py").is_file()}
    assert set(LAYERS) == present


def test_the_rules_import_nothing_of_the_project():
    assert not _own(PACKAGE / "reconcile" / "rules.py")


def test_the_kernel_imports_the_rules():
    assert "evidence_app.reconcile.rules" in _imports(PACKAGE / "reconcile" / "_kernel.py")


def test_a_view_module_added_to_the_core_would_be_caught(tmp_path):
    """The derivation itself: a module importing streamlit from inside a core package fails the check."""
    bad = tmp_path / "evidence_app" / "reconcile" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("import streamlit\nfrom evidence_app.ui import data\n", encoding="utf-8")
    assert LAYERS["reconcile"] <= CORE
    assert {m for m in _imports(bad) if m.split(".")[0] in VIEW_LIBRARIES} == {"streamlit"}
    assert {m for m in _own(bad) if LAYERS[_top(m)] > LAYERS["reconcile"]} == {"evidence_app.ui"}


def test_kernel_id_ranks_are_the_rules_id_order():
    from evidence_app.columns.order import text_rank
    from evidence_app.columns.text import TEXT_DTYPE
    from evidence_app.reconcile import rules

    rng = np.random.default_rng(3)
    for _ in range(100):
        numbers, others = ["9", "10", "100", "-3", "007", "123456789012345678"], ["a", "B", "é", "", None, "1e3"]
        pool = numbers if rng.random() < 0.5 else numbers + others  # all whole numbers, or a mix
        ids = [pool[i] for i in rng.integers(0, len(pool), rng.integers(0, 12))]
        assert text_rank(pd.Series(ids, dtype=TEXT_DTYPE)).tolist() == rules.id_order(ids), ids
