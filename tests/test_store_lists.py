"""Lists of stores (issue 22: "one D1 dump or URL per tenant, each is a partition"): ``[[audit.stores]]`` and
``[[operations.stores]]`` read as their union give every number a single store holding the union gives, partitioned
or not; each entry is a partition unit read by one partition only; a tenant column an entry lacks takes the entry's
tenant; a row held by an entry that does not name its tenant is counted and reconciled under its own; every fault in
the lists is one ConfigError naming the key."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from store_lists import write_both
from scenario import T0, Scenario
from test_dask_cluster import COMMANDS, crossing_scenario
from test_partitions import PERIODS, _same, partitioned_scenario

from evidence_app.cli import main
from evidence_app.compute import evaluate
from evidence_app.compute.configured import evaluate_configured
from evidence_app.compute.routing import route
from evidence_app.compute.partition import run_partition
from evidence_app.config.compute import ComputeConfig
from evidence_app.config.settings import load_config, store_units
from evidence_app.errors import ConfigError
from evidence_app.ingest.dataset import load_dataset, open_stores
from evidence_app.reconcile import Period


def _outputs(config: Path, *options: str) -> dict[str, tuple[int, str]]:
    found = {}
    for command in COMMANDS:
        res = CliRunner().invoke(main, [command[0], "--config", str(config), *command[1:], "--format", "json",
                                        *options])
        found[" ".join(command)] = (res.exit_code, res.stdout)
    return found


def _with(config, partitions: int):  # noqa: ANN001, ANN202
    return replace(config, compute=ComputeConfig(partitions=partitions))


# ------------------------------------------------------------------ the same numbers as one store holding the union


def test_one_scenario_reads_the_same_from_the_lists_as_from_the_union(tmp_path):
    """The development lane's case of the two below: D1 dumps and SQLite files, cross-tenant request ids."""
    rng = random.Random(21)
    sc = crossing_scenario(rng, tmp_path / "s")
    union, lists = write_both(sc, rng)
    one, many = load_config(union), load_config(lists)
    assert {("d1" if e.d1_dump else "url") for s in (many.audit, many.operations) for e in s.stores} == {"d1", "url"}
    whole = evaluate(one, Period())
    _same(whole, evaluate(_with(many, 1), Period()))
    _same(whole, evaluate_configured(many, Period()))


@pytest.mark.parametrize("seed", range(8))
def test_lists_of_stores_give_the_union_stores_numbers_partitioned_or_not(tmp_path, seed):
    rng = random.Random(seed)
    sc = (crossing_scenario if seed % 2 else partitioned_scenario)(rng, tmp_path / "s")
    union, lists = write_both(sc, rng)
    one, many = load_config(union), load_config(lists)
    assert many.compute.partitions == store_units(many.audit, many.operations) >= 1
    for period in PERIODS[:3]:
        whole = evaluate(one, period)
        _same(whole, evaluate(_with(many, 1), period))  # the union, read entry by entry, in one pass
        _same(whole, evaluate_configured(many, period))  # the default: a partition per unit
        _same(whole, evaluate(_with(many, 2), period, partitions=2))  # fewer partitions than units: packed


@pytest.mark.parametrize("seed", range(3))
def test_every_command_reads_the_same_from_the_lists_as_from_the_union(tmp_path, seed):
    rng = random.Random(100 + seed)
    sc = crossing_scenario(rng, tmp_path / "s")
    union, lists = write_both(sc, rng)
    whole = _outputs(union)
    assert all(code == 0 for code, _ in whole.values()), whole
    assert _outputs(lists) == whole
    assert _outputs(lists, "--partitions", "1") == whole
    assert _outputs(lists, "--partitions", "3") == whole


# ------------------------------------------------------------------ each entry is a partition unit


def _per_tenant(tmp_path: Path, tenants: list[str], column: bool = False,
                tables: tuple[str, str] = ("operations", "staff_audit_logs"), dumps: bool = False) -> Path:
    """One operation and its audit row per tenant, each tenant's in its own SQLite files (or D1 dumps) with no
    tenant column (unless ``column``); no request id crosses tenants."""
    root = tmp_path / "pt"
    root.mkdir()
    text = ['[organisation]\nname = "T"\n']
    for side, table, cols in (("operations", tables[0], "id, occurred_at, operation, user_id, target"),
                              ("audit", tables[1], "id, created_at, action, user_id, target")):
        text.append(f"[{side}]\ntable = \"{table}\"\n")
        for i, t in enumerate(tenants):
            _sqlite(root / f"{side}-{t}.db", table, cols + (", restaurant_id" if column else ""),
                    [(f"{side[0]}{i}", "2026-10-01T12:00:00Z", "cache_purge", "u1", '["m-1"]')
                     + ((t,) if column else ())])
            if dumps:
                _as_dump(root / f"{side}-{t}.db")
                text.append(f'[[{side}.stores]]\ntenant = "{t}"\nd1_dump = "{side}-{t}.sql"\n')
            else:
                text.append(f'[[{side}.stores]]\ntenant = "{t}"\nurl = "sqlite:///{side}-{t}.db"\n')
    (root / "evidence.toml").write_text("\n".join(text), encoding="utf-8")
    return root / "evidence.toml"


def _as_dump(db: Path) -> None:
    """The SQLite file replaced by its SQL dump (``.sql`` beside it), as a D1 export holds it."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        body = "\n".join(conn.iterdump()) + "\n"
    conn.close()
    db.unlink()
    db.with_suffix(".sql").write_text(body, encoding="utf-8")


def _sqlite(path: Path, table: str, columns: str, rows: list[tuple]) -> None:
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE {table} ({columns})")
        db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    db.close()


def test_each_store_of_the_list_is_a_partition_read_by_that_partition_alone(tmp_path):
    config = load_config(_per_tenant(tmp_path, ["acme", "globex", "initech", "umbrella"]))
    assert config.compute.partitions == 4  # one per tenant's pair of databases
    routing = route(config, Period(), config.compute.partitions)
    read = []
    for spec in routing.specs:
        result = run_partition(spec)
        mine = [t for t in spec.tenants if t is not None]
        assert len(mine) == 1
        window = [q.source for q in result.queries]  # the whole period: no top-up beyond it
        assert window == [f"operations.stores[{_at(config.operations, mine[0])}] ({mine[0]})",
                          f"audit.stores[{_at(config.audit, mine[0])}] ({mine[0]})"]
        assert set(result.loaded_operations["tenant"].astype(str)) == {mine[0]}
        read += window
    assert len(read) == len(set(read)) == 8  # every database read once, by one partition
    data, recon = evaluate_configured(config, Period())
    assert set(recon.operations["state"]) == {"logged"} and len(recon.operations) == 4
    assert "4 partitions" in data.partitioning


def test_a_partition_loads_only_its_own_d1_dumps(tmp_path, monkeypatch):
    """Opening the list in a partition loads no dump (their schemas were checked once in this process, and their
    rows counted when the routing read them); reading loads the partition's own, one at a time."""
    from evidence_app.ingest import sources

    config = load_config(_per_tenant(tmp_path, ["acme", "globex", "initech", "umbrella"], dumps=True))
    routing = route(config, Period(), config.compute.partitions)  # opens every dump (once: schema, rows) and reads
    loaded: list[str] = []
    real = sources.load_dump
    monkeypatch.setattr(sources, "load_dump", lambda path, key, data=True: loaded.append(
        path.name if data else f"schema of {path.name}") or real(path, key, data))
    for spec in routing.specs:
        loaded.clear()
        result = run_partition(spec)
        mine = [t for t in spec.tenants if t is not None]
        assert sorted(loaded) == sorted([f"operations-{mine[0]}.sql", f"audit-{mine[0]}.sql"])
        assert [s.rows_total for s in result.sources] == [4, 4]  # the lists' totals, every dump counted
    _same(evaluate(_with(config, 1), Period()), evaluate_configured(config, Period()))


def _at(store, tenant: str) -> int:  # noqa: ANN001
    return next(i for i, s in enumerate(store.stores) if tenant in s.tenants)


def test_a_partition_count_below_the_units_packs_whole_stores(tmp_path):
    config = load_config(_per_tenant(tmp_path, ["a", "b", "c", "d", "e"]))
    routing = route(config, Period(), 2)
    assert sorted(len([t for t in s.tenants if t]) for s in routing.specs) == [2, 3]
    reads = [q.source for s in routing.specs for q in run_partition(s).queries]
    assert len(reads) == len(set(reads)) == 10


def test_partitions_in_the_config_override_the_units_and_one_is_the_single_pass(tmp_path):
    path = _per_tenant(tmp_path, ["a", "b", "c"])
    path.write_text(path.read_text() + "\n[compute]\npartitions = 1\n")
    config = load_config(path)
    assert config.compute.partitions == 1 and not config.compute.distributed
    data, recon = evaluate_configured(config, Period())
    assert data.partitioning is None and len(recon.operations) == 3


def test_entries_sharing_a_tenant_across_the_two_lists_are_one_unit(tmp_path):
    path = _per_tenant(tmp_path, ["a", "b", "c"])
    text = path.read_text()  # the audit side: a and b in one database with the tenant column
    head, _, _ = text.partition("[[audit.stores]]")
    _sqlite(path.parent / "audit-ab.db", "staff_audit_logs", "id, created_at, action, user_id, target, restaurant_id",
            [("a0", "2026-10-01T12:00:00Z", "cache_purge", "u1", '["m-1"]', "a"),
             ("a1", "2026-10-01T12:00:00Z", "cache_purge", "u1", '["m-1"]', "b")])
    path.write_text(head + '[[audit.stores]]\ntenants = ["a", "b"]\nurl = "sqlite:///audit-ab.db"\n'
                    '[[audit.stores]]\ntenant = "c"\nurl = "sqlite:///audit-c.db"\n')
    config = load_config(path)
    assert store_units(config.audit, config.operations) == 2 == config.compute.partitions
    plan = route(config, Period(), 2).plan
    assert sorted(tuple(t for t in ts if t) for ts in plan.tenants) == [("a", "b"), ("c",)]
    _, recon = evaluate_configured(config, Period())
    assert set(recon.operations["state"]) == {"logged"}


# ------------------------------------------------------------------ the tenant column


def test_a_store_without_a_tenant_column_gives_every_row_its_tenant(tmp_path):
    config = load_config(_per_tenant(tmp_path, ["acme", "globex"]))
    data = load_dataset(_with(config, 1), Period())
    assert dict(zip(data.operations["id"], data.operations["tenant"].astype(str))) == {"o0": "acme", "o1": "globex"}
    assert dict(zip(data.audit["id"], data.audit["tenant"].astype(str))) == {"a0": "acme", "a1": "globex"}
    assert not [i for i in data.issues if i.kind == "tenant_outside_store"]


def test_a_store_naming_several_tenants_must_have_the_tenant_column(tmp_path):
    path = _per_tenant(tmp_path, ["acme"])
    path.write_text(path.read_text().replace('[[audit.stores]]\ntenant = "acme"',
                                             '[[audit.stores]]\ntenants = ["acme", "globex"]'))
    res = CliRunner().invoke(main, ["coverage", "--config", str(path), "--format", "json"])
    assert res.exit_code == 2
    assert "audit.stores[0].tenants: the store names 2 tenants but its table 'staff_audit_logs' has no tenant " \
           "column 'restaurant_id'" in res.stderr


def test_a_row_of_another_tenant_is_counted_and_reconciled_under_its_own(tmp_path):
    path = _per_tenant(tmp_path, ["acme", "globex"], column=True)
    import sqlite3

    with sqlite3.connect(path.parent / "audit-acme.db") as db:  # globex's row, written into acme's database
        db.execute("UPDATE staff_audit_logs SET restaurant_id = 'globex', id = 'stray' WHERE id = 'a0'")
        db.execute("INSERT INTO staff_audit_logs VALUES ('a0', '2026-10-01T12:00:00Z', 'cache_purge', 'u1', "
                   "'[\"m-1\"]', 'acme')")
    db.close()
    config = load_config(path)
    whole = evaluate(_with(config, 1), Period())
    data, recon = whole
    found = [i for i in data.issues if i.kind == "tenant_outside_store"]
    assert [(i.source, i.column, i.count, i.examples) for i in found] == [("audit", "tenant", 1, ("stray",))]
    rows = dict(zip(recon.rows["id"], recon.rows["status"]))
    assert rows["stray"] == "duplicate" and rows["a1"] != "orphan"  # globex's operation: covered once, then a dup
    assert dict(zip(recon.rows["id"], recon.rows["tenant"].astype(str)))["stray"] == "globex"
    _same(whole, evaluate_configured(config, Period()))  # partitioned: the stray row's tenant joins acme's unit
    res = CliRunner().invoke(main, ["coverage", "--config", str(path), "--format", "json"])
    assert res.exit_code == 0 and "tenant_outside_store" in res.stderr


# ------------------------------------------------------------------ sources, extraction, fingerprint


def test_the_sources_report_and_extraction_name_every_store_of_the_list(tmp_path):
    rng = random.Random(5)
    sc = crossing_scenario(rng, tmp_path / "s")
    _, lists = write_both(sc, rng)
    config = load_config(lists)
    data, _ = evaluate_configured(config, Period())
    for source, store, records in zip(data.sources, (config.operations, config.audit), (sc.ops, sc.rows)):
        for entry in store.stores:
            assert f"{', '.join(entry.tenants)}: {entry.display_url}" in source.display_url
        assert source.rows_total == len(records)  # every entry's table counted
    sources = {q.source for q in data.queries}
    for store in (config.operations, config.audit):
        for entry in store.stores:
            assert f"{entry.where} ({', '.join(entry.tenants)})" in sources


def test_a_password_in_a_listed_url_is_masked_everywhere_it_is_named(tmp_path):
    path = _per_tenant(tmp_path, ["acme"])
    text = path.read_text() + ('[[audit.stores]]\ntenant = "globex"\n'
                               'url = "postgresql://auditor:s3cret-pw@127.0.0.1:1/globex"\n')
    path.write_text(text)
    config = load_config(path)
    assert "s3cret-pw" not in config.audit.display_url and "globex" in config.audit.display_url
    res = CliRunner().invoke(main, ["coverage", "--config", str(path), "--format", "json"])
    assert res.exit_code != 0 and "s3cret-pw" not in res.stderr + res.stdout
    assert "audit.stores[1]" in res.stderr


def test_the_fingerprint_sees_a_change_in_any_one_store_of_the_list(tmp_path):
    from evidence_app.persistence.snapshot import fingerprint

    path = _per_tenant(tmp_path, ["acme", "globex", "initech"])
    config = load_config(path)
    stores = open_stores(config)
    before = fingerprint(config, Period(), stores)
    for s in stores:
        s.engine.dispose()
    assert len(before["audit"]["files"]) == 6  # each database and its WAL
    import sqlite3

    with sqlite3.connect(path.parent / "audit-globex.db") as db:
        db.execute("INSERT INTO staff_audit_logs VALUES ('late', '2026-10-01T12:00:05Z', 'cache_purge', 'u1', "
                   "'[\"m-1\"]')")
    db.close()
    stores = open_stores(config)
    after = fingerprint(config, Period(), stores)
    for s in stores:
        s.engine.dispose()
    assert after["audit"] != before["audit"] and after["operations"] == before["operations"]
    assert after["audit"]["rows"] == before["audit"]["rows"] + 1


# ------------------------------------------------------------------ the configuration


BAD_LISTS = [
    ('url = "sqlite:///a.db"\n[[audit.stores]]\ntenant = "x"\nurl = "sqlite:///a.db"\n',
     "audit.stores: give either audit.url or audit.stores (a list of stores), not both"),
    ("stores = []\n", "audit.stores: must list at least one store"),
    ('stores = "a.db"\n', "audit.stores: must be a list of tables"),
    ('[[audit.stores]]\ntenant = "x"\nurl = "sqlite:///a.db"\nd1_dump = "d.sql"\n',
     "audit.stores[0]: give exactly one of audit.stores[0].url or audit.stores[0].d1_dump"),
    ('[[audit.stores]]\ntenant = "x"\n', "audit.stores[0]: give exactly one of audit.stores[0].url or"),
    ('[[audit.stores]]\nurl = "sqlite:///a.db"\n', "audit.stores[0]: give exactly one of audit.stores[0].tenant or"),
    ('[[audit.stores]]\ntenant = "x"\ntenants = ["y"]\nurl = "sqlite:///a.db"\n',
     "audit.stores[0]: give exactly one of audit.stores[0].tenant or audit.stores[0].tenants"),
    ('[[audit.stores]]\ntenants = []\nurl = "sqlite:///a.db"\n', "audit.stores[0].tenants: must be a non-empty list"),
    ('[[audit.stores]]\ntenant = ""\nurl = "sqlite:///a.db"\n', "audit.stores[0].tenant: a tenant is a non-empty"),
    ('[[audit.stores]]\ntenants = ["x", "x"]\nurl = "sqlite:///a.db"\n', "audit.stores[0].tenants: a tenant is named "
                                                                         "twice"),
    ('[[audit.stores]]\ntenant = "x"\nurl = "sqlite:///a.db"\n[[audit.stores]]\ntenants = ["y", "x"]\n'
     'url = "sqlite:///b.db"\n', "audit.stores[1].tenant: tenant 'x' is already held by audit.stores[0]"),
    ('[[audit.stores]]\ntenant = "x"\nurl = "sqlite:///a.db"\n[[audit.stores]]\ntenant = "y"\n'
     'url = "sqlite:///a.db"\n', "audit.stores[1]: the same store as audit.stores[0]"),
    ('[[audit.stores]]\ntenant = "x"\nurl = "sqlite:///a.db"\ntable = "t"\n',
     "audit.stores[0].table: unknown key (allowed: d1_dump, tenant, tenants, url)"),
    ('[[audit.stores]]\ntenant = "x"\nurl = "sqlite:///missing.db"\n', "audit.stores[0].url: file not found"),
    ('[[audit.stores]]\ntenant = "x"\nd1_dump = "missing.sql"\n', "audit.stores[0].d1_dump: file not found"),
    ('[[audit.stores]]\ntenant = "x"\nurl = "oracle://h/db"\n', "audit.stores[0].url: unsupported database"),
]


@pytest.mark.parametrize("audit, message", BAD_LISTS)
def test_every_fault_in_a_list_of_stores_is_a_config_error_naming_the_key(tmp_path, audit, message):
    for name in ("a.db", "b.db", "o.db"):
        _sqlite(tmp_path / name, "t", "x", [(1,)])
    (tmp_path / "d.sql").write_text("")
    path = tmp_path / "evidence.toml"
    path.write_text(f'[operations]\nurl = "sqlite:///o.db"\n[audit]\n{audit}', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)


def test_relative_locations_in_a_list_resolve_against_the_config_folder(tmp_path, monkeypatch):
    path = _per_tenant(tmp_path, ["acme"])
    monkeypatch.chdir(tmp_path)
    config = load_config(path)
    assert config.audit.stores[0].url.database == str(path.parent / "audit-acme.db")
    assert config.audit.stores[0].where == "audit.stores[0]" and config.audit.where == "audit"


def test_store_units_join_entries_sharing_a_tenant_across_the_lists(tmp_path):
    path = _per_tenant(tmp_path, ["a", "b", "c", "d"])
    config = load_config(path)
    assert store_units(config.audit, config.operations) == 4
    merged = replace(config.audit, stores=(replace(config.audit.stores[0], tenants=("a", "b")),
                                           *config.audit.stores[2:]))
    assert store_units(merged, config.operations) == 3
    single = load_config(Scenario(tmp_path / "one").op("o1").write())
    assert store_units(single.audit, single.operations) == 0 and single.compute.partitions == 1


def test_a_config_without_lists_reads_as_before(tmp_path):
    """A config without lists reads as before: one store each side, one partition."""
    sc = Scenario(tmp_path / "s")
    sc.op("o1", at=T0).row("a1", at=T0 + timedelta(seconds=5))
    config = load_config(sc.write())
    assert config.audit.stores == () and config.audit.leaves == (config.audit,)
    assert config.compute.partitions == 1
    data, recon = evaluate_configured(config, Period())
    assert list(recon.operations["state"]) == ["logged"]
    assert data.partitioning is None


def test_a_pack_of_a_hundred_per_tenant_stores_lists_each_and_shows_the_union_stores_figures(tmp_path):
    """Sections 1–7 read as the union store's pack; the methodology names every store of the lists (one row each,
    across pages) and the extraction identifies every D1 dump by its SHA-256."""
    import re
    import subprocess

    import forge
    from pdftools import tool

    rng = random.Random(3)
    sc = Scenario(tmp_path / "s")
    for i in range(120):
        t = f"tenant-{i:03d}"
        at = T0 + timedelta(seconds=37 * i)
        rid = f"q{i // 2}" if i % 5 == 0 else None  # request ids shared by neighbouring tenants
        sc.op(f"o{i}", at=at, tenant=t, request_id=rid)
        if i % 7:
            sc.row(f"a{i}", at=at + timedelta(seconds=3), tenant=f"tenant-{(i + 1) % 120:03d}" if rid else t,
                   request_id=rid)
    union, lists = write_both(sc, rng)
    ident = forge.make_identity(tmp_path / "id")

    def pack_text(config: Path) -> str:
        out = tmp_path / f"{config.stem}.pdf"
        res = CliRunner().invoke(main, ["pack", "--config", str(config), "--start", "2026-10-01", "--end",
                                        "2026-10-01", "--out", str(out), "--key", str(ident.key), "--cert",
                                        str(ident.cert), "--generated-at", "2026-10-30T00:00:00Z",
                                        "--partitions", "4"])
        assert res.exit_code == 0, res.stderr
        text = subprocess.run([tool("pdftotext"), str(out), "-"], capture_output=True, text=True).stdout
        return " ".join(text.split())

    one, many = pack_text(union), pack_text(lists)
    pack_id, page = r"EP-[0-9A-F]{4}(-[0-9A-F]{4}){3}", r"Page \d+ of \d+"
    config_sha = r"Configuration SHA-256 [0-9a-f]{64}"  # two configurations: the lists', the union's
    figures = lambda text: re.sub(config_sha, "", re.sub(page, "", re.sub(pack_id, "", text[:text.index(  # noqa: E731
        "8. Methodology")])))
    assert figures(many) == figures(one)
    config = load_config(lists)
    entries = [e for s in (config.operations, config.audit) for e in s.stores]
    assert len(entries) > 100  # most tenants alone, the rest together (tests/store_lists.py)
    for e in entries:
        assert f"{e.where} " in many, e.where
    assert "formed one partition unit, read by one partition only" in many
    for e in entries:
        if e.d1_dump is not None:
            assert f"{e.where}.d1_dump" in many


def _server_tables(admin, tag: str) -> dict[str, str]:  # noqa: ANN001
    """A fourth tenant's operations and audit tables on a database server (no tenant column): side → table name."""
    import os

    import sqlalchemy as sa

    names = {side: f"storelists_{tag}_{side}_{os.getpid()}" for side in ("operations", "audit")}
    md = sa.MetaData()
    for (side, name), time, act in zip(names.items(), ("occurred_at", "created_at"), ("operation", "action")):
        sa.Table(name, md, *(sa.Column(c, sa.String(200)) for c in ("id", time, act, "user_id", "target")))
    md.drop_all(admin)
    md.create_all(admin)
    with admin.begin() as conn:
        for side, name in names.items():
            t = md.tables[name]
            conn.execute(t.insert(), [dict(zip(t.c.keys(), (f"{side[0]}-srv-{k}", f"2026-10-01T1{k}:00:00Z",
                                                             "cache_purge", "u1", '["m-1"]'))) for k in range(2)])
    return names


@pytest.mark.parametrize("server", ["postgresql", "mariadb"])
def test_a_list_mixing_sqlite_files_and_a_server_database_reads_each_read_only(request, tmp_path, server):
    import sqlalchemy as sa

    admin = request.getfixturevalue("pg_admin" if server == "postgresql" else "mariadb_admin")
    names = _server_tables(admin, server[:2])
    try:  # the section's table is every entry's: the SQLite files use the server's table names too
        path = _per_tenant(tmp_path, ["acme", "globex", "initech"], tables=(names["operations"], names["audit"]))
        url = admin.url.render_as_string(hide_password=False)
        head, _, audit = path.read_text().partition("[audit]")
        path.write_text(f'{head}[[operations.stores]]\ntenant = "umbrella"\nurl = "{url}"\n[audit]{audit}'
                        f'[[audit.stores]]\ntenant = "umbrella"\nurl = "{url}"\n')
        config = load_config(path)
        assert config.compute.partitions == 4
        data, recon = evaluate_configured(config, Period())
        assert len(recon.operations) == 5 and set(recon.operations["state"]) == {"logged"}
        assert dict(zip(recon.operations["id"], recon.operations["tenant"].astype(str)))["o-srv-1"] == "umbrella"
        mode = {"postgresql": "PostgreSQL session READ ONLY", "mariadb": "MySQL/MariaDB session TRANSACTION READ ONLY"}
        assert all(mode[server] in s.read_only_mode and "mode=ro" in s.read_only_mode for s in data.sources)
        _same(evaluate(_with(config, 1), Period()), (data, recon))
    finally:
        with admin.begin() as conn:
            for name in names.values():
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))


@pytest.mark.parametrize("statement", ["ATTACH DATABASE 'other.db' AS other;",
                                       "INSERT INTO staff_audit_logs VALUES ((SELECT 'x'), '2026-10-01T12:00:00Z', "
                                       "'cache_purge', 'u1', '[\"m-1\"]');"])
def test_a_listed_dump_that_is_more_than_data_is_refused_naming_its_entry(tmp_path, statement):
    """The schema check skips a dump's rows but runs every other statement under the same policy; the rows are
    judged when the dump is read: either way the dump is refused, naming the entry, and nothing is written."""
    path = _per_tenant(tmp_path, ["acme", "globex"], dumps=True)
    dump = path.parent / "audit-globex.sql"
    dump.write_text(dump.read_text().replace("COMMIT;", statement + "\nCOMMIT;"))
    before = sorted(p.name for p in path.parent.iterdir())
    res = CliRunner().invoke(main, ["coverage", "--config", str(path), "--format", "json"])
    err = res.stderr.strip()
    assert res.exit_code == 2 and len(err.splitlines()) == 1, (res.exit_code, err)
    assert err.startswith("error: audit.stores[1].d1_dump:") and "line 4: refused" in err, err
    assert sorted(p.name for p in path.parent.iterdir()) == before
