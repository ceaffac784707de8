"""Packs at thousands of operators and tenants: bounded tables and heat map, a page count that does not grow,
the printed numbers the core's, every line in the embedded extracts."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_app.cli import main
from evidence_app.evidence.contents import PACK_LINES
from evidence_app.reconcile.bounded import bounded_view
from evidence_app.reconcile.coverage import coverage_table

from pdftools import tool
from scenario import T0, Scenario

OPERATIONS = 5_000
START, END = date(2026, 10, 1), date(2026, 10, 4)


def world(root: Path, operators: int, tenants: int) -> Scenario:
    """5,000 operations over four days, spread over ``operators`` × ``tenants``: one in three has no audit row,
    one in thirty of those a pending failure event; everything else equal whatever the two counts."""
    s = Scenario(root)
    for i in range(OPERATIONS):
        at, user, tenant, target = T0 + timedelta(minutes=i), f"op{i % operators:04d}", f"t{i % tenants:04d}", f'["m-{i}"]'
        s.op(f"o{i:05d}", at, tenant=tenant, user=user, target=target, route=f"/api/r{i % 4}")
        if i % 3:
            s.row(f"a{i:05d}", at, tenant=tenant, user=user, target=target, route=f"/api/r{i % 4}")
        elif i % 30 == 0:
            s.failure(f"f{i:05d}", at, tenant=tenant, user=user, target=target, route=f"/api/r{i % 4}")
    return s


def build(s: Scenario, tmp: Path) -> Path:
    cfg, out, ident = s.write(), tmp / "pack.pdf", tmp / "id"
    runner = CliRunner()
    assert runner.invoke(main, ["keygen", str(ident), "--valid-from", "2026-01-01"]).exit_code == 0
    res = runner.invoke(main, ["pack", "--config", str(cfg), "--start", str(START), "--end", str(END), "--out",
                               str(out), "--key", str(ident / "key.pem"), "--cert", str(ident / "cert.pem"),
                               "--generated-at", "2026-10-05T00:00:00Z"])
    assert res.exit_code == 0, res.stderr + res.stdout
    return out


def pages(pdf: Path) -> int:
    info = subprocess.run([tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def text(pdf: Path) -> str:
    out = subprocess.run([tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    return re.sub(r"\s+", " ", out)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    root = tmp_path_factory.mktemp("large")
    s = world(root / "store", operators=5_000, tenants=2_000)
    return s, build(s, root)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    s = world(root / "store", operators=20, tenants=20)
    return s, build(s, root)


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def line(name: str, r) -> str:
    """One row of a coverage table as the pack prints it (name, counts, both ratios)."""
    counts = " ".join(f"{int(getattr(r, f)):,}" for f in ("expected", "logged", "replayed", "backfilled", "missing"))
    return f"{name} {counts} {ratio(r.coverage_logged)} {ratio(r.coverage_after_replay)}"


def test_pack_with_5000_operators_has_as_many_pages_as_with_20(large, small):
    assert pages(large[1]) == pages(small[1])


@pytest.mark.parametrize("dimension,order", [("operator", "coverage"), ("operator", "missing"),
                                             ("tenant", "coverage"), ("tenant", "missing")])
def test_bounded_tables_print_the_cores_numbers(large, dimension, order):
    s, pdf = large
    view = bounded_view(coverage_table(s.recon(START, END), [dimension]), dimension, PACK_LINES, order)
    assert view.folded > 1_900
    printed = text(pdf)
    for r in view.lines.itertuples(index=False):
        assert line(getattr(r, dimension), r) in printed


def test_captions_say_how_many_are_shown_and_where_the_rest_are(large):
    printed = text(large[1])
    assert ("15 worst of 5,000 operators by coverage after replay, all others in one line; every operator in "
            "coverage_by_operator.csv") in printed
    assert "15 worst of 2,000 tenants by missing operations" in printed
    assert "Rows: 15 worst of 5,000 operators by coverage as logged" in printed


def test_the_full_per_operator_and_per_tenant_tables_are_embedded(large):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from evidence_app.evidence.attachments import read_attachments

    files = read_attachments(PdfFileReader(io.BytesIO(large[1].read_bytes()), strict=False).root).files
    operators = list(csv.DictReader(io.StringIO(files["coverage_by_operator.csv"].decode())))
    tenants = list(csv.DictReader(io.StringIO(files["coverage_by_tenant.csv"].decode())))
    assert len(operators) == 5_000 and len(tenants) == 2_000
    assert sum(int(r["expected"]) for r in operators) == OPERATIONS
