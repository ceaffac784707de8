"""Results that cross a layer are typed: frozen dataclasses with a docstring per field, read by name — and the
readers agree (the pack shows the CLI's numbers, on the bundled sample)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import textwrap
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from evidence_app.assess.summary import Summary
from evidence_app.cli import main
from evidence_app.config.settings import load_config
from evidence_app.evidence.contents import PACK_LINES, DimensionViews, PackContents, PackViews, gather
from evidence_app.evidence.extracts import iter_extracts
from evidence_app.reconcile import Period, ReplayStatus, Scope
from evidence_app.reconcile.bounded import BoundedView, bounded_remediation, bounded_view
from evidence_app.reconcile.coverage import Totals
from evidence_app.reconcile.remediation import RemediationSummary
from evidence_app.render import records

TYPES = [Summary, Totals, ReplayStatus, RemediationSummary, BoundedView, PackContents, PackViews, DimensionViews]
PERIOD = ["--start", "2026-08-01", "--end", "2026-10-29"]
AS_OF = "2026-10-30T00:00:00Z"


def _ui_types() -> list[type]:
    from evidence_app.ui.data import LogFacts, SourceFacts, SourcesView, StoreFigures

    return [SourcesView, SourceFacts, StoreFigures, LogFacts]


def _documented(cls: type) -> set[str]:
    """The fields of ``cls`` followed by an attribute docstring (``x: int`` then a ``\"\"\"…\"\"\"`` line)."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    return {a.target.id for a, b in zip(body, body[1:]) if isinstance(a, ast.AnnAssign)
            and isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant) and isinstance(b.value.value, str)}


@pytest.mark.parametrize("cls", TYPES + _ui_types(), ids=lambda c: c.__name__)
def test_a_result_type_is_frozen_and_documents_every_field(cls):
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    fields = {f.name for f in dataclasses.fields(cls)}
    assert fields - _documented(cls) == set(), f"{cls.__name__}: fields without a docstring"


@pytest.fixture(scope="module")
def pack() -> PackContents:
    return gather(load_config(None), Period(date(2026, 8, 1), date(2026, 10, 29)), Scope(),
                  datetime(2026, 10, 30, tzinfo=timezone.utc))


def _cli(*args: str) -> str:
    res = CliRunner().invoke(main, [*args])
    assert res.exit_code in (0, 1), res.stderr
    return res.stdout


def test_the_pack_is_frozen(pack):
    for value, name in ((pack, "views"), (pack.views, "remediation"), (pack.views.operator, "by_missing")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, None)


def test_the_packs_remediation_is_the_clis(pack):
    """The pack's remediation.csv is the CLI's CSV byte for byte; its facts are the CLI table's sums; the SLA it
    states is the config's."""
    extract = next(e for e in iter_extracts(pack) if e.name == "remediation.csv")
    assert extract.data.decode("utf-8") == _cli("remediation", *PERIOD, "--as-of", AS_OF, "--format", "csv")
    out = json.loads(_cli("remediation", *PERIOD, "--as-of", AS_OF, "--format", "json"))
    r = pack.summary.remediation
    assert (r.route_count, r.silent_before_fix, r.silent_after_fix, r.failures, r.replayed_within_sla) == (
        len(out), *(sum(row[k] for row in out) for k in ("missing_silent_before_fix", "missing_silent_after_fix",
                                                          "failures", "replayed_within_sla")))
    assert (r.swept, r.not_swept, r.unknown) == tuple(sum(row["status"] == k for row in out)
                                                      for k in ("swept", "not_swept", "unknown"))
    assert r.replay_sla_seconds == pack.config.remediation.replay_sla_seconds == out[0]["replay_sla_seconds"]
    assert r.judged_at == pack.generated_at
    assert records(pack.views.remediation.lines) == records(bounded_remediation(r.routes, PACK_LINES).lines)
    assert pack.views.remediation.folded > 0  # the sample has more routes than the pack names


@pytest.mark.parametrize("dimension", ["operator", "tenant", "route"])
def test_the_packs_coverage_views_are_the_clis_table(pack, dimension):
    out = json.loads(_cli("coverage", *PERIOD, "--by", dimension, "--format", "json"))
    full = getattr(pack, f"by_{dimension}")
    assert records(full) == out
    views = getattr(pack.views, dimension)
    assert (views.by_coverage.dimension, views.by_coverage.order, views.by_missing.order) == (
        dimension, "coverage", "missing")
    for view in (views.by_coverage, views.by_missing):
        again = bounded_view(full, dimension, PACK_LINES, view.order)
        assert records(view.lines) == records(again.lines) and view.total == len(out)


def test_the_heat_map_is_the_day_by_operator_table(pack):
    out = json.loads(_cli("coverage", *PERIOD, "--by", "day,operator", "--format", "json"))
    heat = pack.views.heat_map
    assert records(pack.by_day_operator) == out
    assert (heat.dimension, heat.order) == ("operator", "coverage_logged")
    assert heat.total == len({row["operator"] for row in out})
