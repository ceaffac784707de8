"""A scenario written twice: as one store per side (the union) and as lists of stores, one per tenant or group of
tenants (SQLite files and D1 dumps, with or without the tenant column), for the same numbers from both."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from scenario import AUDIT_COLUMNS, OPS_COLUMNS, Scenario
from scenario import _table  # one SQLite table writer for every scenario

KINDS = ("sqlite", "sqlite+column", "d1", "d1+column")
"""How an entry is written: a SQLite file or a D1 dump, without the tenant column (one tenant) or with it."""


@dataclass(frozen=True)
class Entry:
    tenants: tuple[str, ...]
    kind: str
    records: tuple[dict, ...]


def entries(rng: random.Random, records: list[dict], rest_share: float = 0.3) -> list[Entry]:
    """The records grouped by tenant into entries: most tenants alone, a few (and every record without a tenant)
    together in a \"rest\" entry that keeps the tenant column; each entry of a random kind."""
    tenants = sorted({r["restaurant_id"] for r in records if r["restaurant_id"] is not None})
    rest = {t for t in tenants if rng.random() < rest_share}
    out = []
    for t in tenants:
        if t not in rest:
            out.append(Entry((t,), rng.choice(KINDS), tuple(r for r in records if r["restaurant_id"] == t)))
    held = [r for r in records if r["restaurant_id"] is None or r["restaurant_id"] in rest]
    if held:
        names = tuple(sorted(rest)) or ("nobody-" + str(rng.randrange(1000)),)
        out.append(Entry(names, rng.choice(("sqlite+column", "d1+column")), tuple(held)))
    rng.shuffle(out)
    return out


def write_entry(folder: Path, name: str, table: str, columns: tuple[str, ...], entry: Entry) -> str:
    """The entry as a SQLite file or D1 dump in ``folder``; the config line naming it."""
    cols = columns if entry.kind.endswith("+column") else tuple(c for c in columns if c != "restaurant_id")
    db = folder / f"{name}.db"
    _table(db, table, cols, entry.records)
    if entry.kind.startswith("d1"):
        with sqlite3.connect(db) as conn:
            body = "\n".join(conn.iterdump()) + "\n"
        conn.close()
        db.unlink()
        (folder / f"{name}.sql").write_text(body, encoding="utf-8")
        return f'd1_dump = "{folder.name}/{name}.sql"'
    return f'url = "sqlite:///{folder.name}/{name}.db"'


def write_both(sc: Scenario, rng: random.Random, extra: str = "") -> tuple[Path, Path]:
    """(the union's evidence.toml, the lists' evidence.toml) in ``sc.root``: the union's stores hold the entries'
    records in the entries' order (so records equal in time and id come in the same order from both)."""
    sc.write()  # the logs (and the scenario's own stores, unused)
    root = sc.root
    (root / "lists").mkdir(exist_ok=True)
    lines = []
    for side, table, columns, records in (("operations", "operations", OPS_COLUMNS, sc.ops),
                                          ("audit", "staff_audit_logs", AUDIT_COLUMNS, sc.rows)):
        found = entries(rng, records)
        _table(root / f"union-{side}.db", table, columns, [r for e in found for r in e.records])
        lines.append(f"[{side}]\ntable = \"{table}\"\n")
        if not found:  # an empty side: one empty store with every column
            found = [Entry(("nobody",), "sqlite+column", ())]
        for i, e in enumerate(found):
            where = write_entry(root / "lists", f"{side}-{i}", table, columns, e)
            tenants = f'tenant = "{e.tenants[0]}"' if len(e.tenants) == 1 and rng.random() < 0.7 else \
                "tenants = [" + ", ".join(f'"{t}"' for t in e.tenants) + "]"
            lines.append(f"[[{side}.stores]]\n{tenants}\n{where}\n")
    logs = '[worker_logs]\npaths = ["logpush/**/*.log.gz"]\n'
    head = '[organisation]\nname = "Test GmbH"\n\n'
    union = root / "union.toml"
    union.write_text(head + '[audit]\nurl = "sqlite:///union-audit.db"\ntable = "staff_audit_logs"\n\n'
                     '[operations]\nurl = "sqlite:///union-operations.db"\ntable = "operations"\n\n' + logs
                     + sc.extra_config + extra, encoding="utf-8")
    lists = root / "lists.toml"
    lists.write_text(head + "\n".join(lines) + "\n" + logs + sc.extra_config + extra, encoding="utf-8")
    return union, lists
