"""Ties broken by id (rules.id_order) in partitions: ids order as numbers only when every id the single pass loads
is a whole number — a property of the whole period, not of one partition's share. The routing pre-pass decides
it for every partition, exactly, including the rows a request-id top-up fetches beyond the window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from scenario import T0, Scenario, server_copy
from test_partitions import _same

from evidence_app.compute import evaluate, routing
from evidence_app.compute.routing import route
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period

DAY = Period(date(2026, 10, 1), date(2026, 10, 1))


def _tie(sc: Scenario, tenant: str = "r1") -> Scenario:
    """One row exactly between two operations of the same keys: the operation-id tie-break decides which it
    covers ('9' before '10' as numbers, '10' before '9' as text)."""
    sc.op("9", T0 - timedelta(seconds=60), tenant=tenant, target='["m-1"]', route="/api/a")
    sc.op("10", T0 + timedelta(seconds=60), tenant=tenant, target='["m-1"]', route="/api/b")
    sc.row("1", T0, tenant=tenant, target='["m-1"]')
    return sc


def _states(config, period: Period, n: int) -> dict[str, str]:  # noqa: ANN001
    _, recon = evaluate(config, period, partitions=n)
    return dict(zip(recon.operations["id"], recon.operations["state"]))


def test_an_id_that_is_no_number_in_another_tenant_makes_every_partition_order_ids_as_text(tmp_path):
    sc = _tie(Scenario(tmp_path))
    sc.op("x", T0 + timedelta(seconds=1000), tenant="r2", target='["m-2"]')
    config = load_config(sc.write())
    assert route(config, Period(), 2).text_ids.operations
    assert _states(config, Period(), 1)["10"] == "logged"  # as text, "10" < "9"
    _same(evaluate(config, Period(), partitions=1), evaluate(config, Period(), partitions=2))


def test_an_id_that_is_no_number_in_another_piece_of_a_split_tenant_orders_ids_as_text(tmp_path, monkeypatch):
    monkeypatch.setattr(routing, "SPLIT_MIN_ROWS", 0)
    sc = _tie(Scenario(tmp_path))
    sc.op("x", T0 + timedelta(seconds=1000), tenant="r1", target='["m-2"]')
    config = load_config(sc.write())
    _same(evaluate(config, Period(), partitions=1), evaluate(config, Period(), partitions=2))


def test_whole_number_ids_everywhere_order_as_numbers_in_every_partition(tmp_path):
    sc = _tie(Scenario(tmp_path))
    sc.op("11", T0 + timedelta(seconds=1000), tenant="r2", target='["m-2"]')
    config = load_config(sc.write())
    assert not route(config, Period(), 2).text_ids.operations
    assert _states(config, Period(), 1)["9"] == "logged"
    _same(evaluate(config, Period(), partitions=1), evaluate(config, Period(), partitions=2))


def _beyond(sc: Scenario, fetched: bool) -> Scenario:
    """An audit row nine days after the period, id "z", carries request id q1 of an in-period operation: the
    single pass fetches it (so the audit ids order as text) unless q1 is already on an audit row of the window."""
    for i, at in ((9, T0 - timedelta(seconds=60)), (10, T0 + timedelta(seconds=60))):
        sc.op(f"o{i}", at, tenant="r2")
        sc.row(str(i), T0, tenant="r2")  # two rows tied for each operation: the row-id tie-break decides
    sc.op("oq", T0 + timedelta(hours=2), tenant="r1", target='["m-9"]', request_id="q1")
    sc.row("z", T0 + timedelta(days=9), tenant="r3", target='["m-9"]', request_id="q1")
    if not fetched:
        sc.row("11", T0 + timedelta(hours=3), tenant="r4", target='["m-8"]', request_id="q1")
    return sc


@pytest.mark.parametrize("fetched", [True, False])
def test_a_row_beyond_the_window_counts_only_if_the_single_passs_top_up_fetches_it(tmp_path, fetched):
    _held_to_the_single_pass(load_config(_beyond(Scenario(tmp_path), fetched).write()), fetched)


@pytest.mark.postgres
@pytest.mark.parametrize("fetched", [True, False])
def test_on_postgresql_a_row_beyond_the_window_counts_only_if_the_top_up_fetches_it(pg_admin, tmp_path, fetched):
    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    sc = _beyond(Scenario(tmp_path), fetched)
    _held_to_the_single_pass(load_config(server_copy(pg_admin, sc, f"ido{int(fetched)}", url)), fetched)


@pytest.mark.parametrize("fetched", [True, False])
def test_on_mariadb_a_row_beyond_the_window_counts_only_if_the_top_up_fetches_it(mariadb_admin, tmp_path, fetched):
    sc = _beyond(Scenario(tmp_path), fetched)
    config = load_config(server_copy(mariadb_admin, sc, f"ido{int(fetched)}", "mariadb://root@127.0.0.1:3306/test"))
    _held_to_the_single_pass(config, fetched)


def _held_to_the_single_pass(config, fetched: bool) -> None:  # noqa: ANN001
    routed = route(config, DAY, 3)
    assert routed.text_ids.audit == fetched
    one = evaluate(config, DAY, partitions=1)
    assert ("z" in set(one[0].audit["id"])) == fetched
    for n in (2, 3):
        _same(one, evaluate(config, DAY, partitions=n))


def test_failure_ids_that_are_no_numbers_order_as_text_in_every_partition(tmp_path):
    sc = Scenario(tmp_path)
    for fid, at in (("9", T0 - timedelta(seconds=60)), ("10", T0 + timedelta(seconds=60))):
        sc.failure(fid, at, tenant="r1")  # two failure events tied for one operation's link
    sc.op("o1", T0, tenant="r1")
    sc.failure("f-x", T0 + timedelta(hours=1), tenant="r2", target='["m-7"]')
    config = load_config(sc.write())
    assert route(config, Period(), 2).text_ids.failures
    _same(evaluate(config, Period(), partitions=1), evaluate(config, Period(), partitions=2))
