"""Digests of every number the CLI prints, on fixed scenarios: proof that a change left them alone.

    python bench/digests.py                 # print one line per scenario × command
    python bench/digests.py --save F.json   # keep them
    python bench/digests.py --check F.json  # compare with kept ones; exit 1 on any difference
    python bench/digests.py --config bench/out/sqlite-1000000/evidence.toml --save tidy.json   # also a bench store
    python bench/digests.py --partitions 7 --check bench/digests-baseline.json   # the same numbers in 7 partitions

Scenarios: the bundled sample (whole span and a sub-period with edges), the wrangler D1 export
fixture, and a messy synthetic store built here (mixed timestamp forms, integer and text ids,
odd origins, duplicate ids, unknown actions, rows out of time order, replays, failures with
attempts). Commands: coverage by every dimension, exceptions (old kinds and keys only, so
added kinds and keys do not count as changes), replay-status at a fixed time, and the warnings.
Everything goes through the CLI, so the script survives any reorganisation of the package.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from evidence_app.cli import main

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out" / "digests"
FIXTURE = next((p / "shared" / "fixtures" / "wrangler-d1-export" for p in ROOT.parents
                if (p / "shared" / "fixtures" / "wrangler-d1-export").is_dir()),
               ROOT.parent / "shared" / "fixtures" / "wrangler-d1-export")
"""Found in the first folder above the checkout that has it (a main checkout and worktrees alike)."""
OLD_KINDS = {"missing_pending", "missing_abandoned", "missing_silent", "orphan", "duplicate"}
OLD_KEYS = ("kind", "operation_id", "audit_id", "day", "operator", "tenant", "action", "route", "occurred_at")
AS_OF = "2026-10-30T00:00:00Z"


def _sample_config() -> Path:
    return ROOT / "sample_data" / "evidence.toml"


def _wrangler_config() -> Path | None:
    if not FIXTURE.is_dir():
        return None
    folder = OUT / "wrangler"
    folder.mkdir(parents=True, exist_ok=True)
    ops = folder / "operations.db"
    ops.unlink(missing_ok=True)
    with sqlite3.connect(ops) as db:
        db.executescript((FIXTURE / "ops.sql").read_text())
    db.close()
    cfg = folder / "evidence.toml"
    cfg.write_text(f'[audit]\nd1_dump = "{FIXTURE / "audit-export.sql"}"\n\n'
                   '[operations]\nurl = "sqlite:///operations.db"\n')
    return cfg


def _messy_config(n: int = 6000, seed: int = 11) -> Path:
    """A store that exercises every loading path; deterministic."""
    rng = random.Random(seed)
    folder = OUT / "messy"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = datetime(2026, 9, 1, tzinfo=timezone.utc)
    ops, rows, lines = [], [], []

    def when(t: datetime, k: int) -> object:
        form = k % 5
        if form == 0:
            return t.strftime("%Y-%m-%dT%H:%M:%SZ")
        if form == 1:
            return t.strftime("%Y-%m-%d %H:%M:%S")
        if form == 2:
            return int(t.timestamp() * 1000)
        if form == 3:
            return t.timestamp()
        return t.astimezone(timezone(timedelta(hours=2))).isoformat()

    for i in range(n):
        t = t0 + timedelta(seconds=rng.randrange(0, 40 * 86400))
        action = f"act_{rng.randrange(6)}"
        tenant, user = f"t{rng.randrange(9)}", f"u{rng.randrange(40)}"
        target = rng.choice(['["m-1"]', '[ "m-2" ]', '{"b": 1, "a": 2}', f'["m-{i % 50}"]', "plain"])
        rid = f"rq-{i}" if rng.random() < 0.5 else None
        op_id = i if i % 3 else f"op-{i}"
        ops.append((op_id, when(t, i), action, f"/r/{action}", tenant, user, target, rid))
        r = rng.random()
        dt = timedelta(seconds=rng.randrange(-100, 100))
        if r < 0.80:
            rows.append((f"a{i}", when(t + dt, i + 1), action, None, tenant, user, target, rid, None, None))
        elif r < 0.86:
            rows.append((f"a{i}", when(t, i), action, None, tenant, user, target, rid,
                         rng.choice(["replay", "REPLAY ", "backfill", "weird"]), when(t + timedelta(hours=2), i)))
            if rng.random() < 0.3:  # replayed twice
                rows.append((f"a{i}b", when(t, i), action, None, tenant, user, target, None, "replay", None))
        elif r < 0.93:
            fid = f"f{i}"
            ms = int((t + timedelta(seconds=1)).timestamp() * 1000)
            msg = {"event": "audit_log_insert_failed", "route": f"/r/{action}", "operation": action,
                   "restaurant_id": tenant, "user_id": user, "error": rng.choice(["overloaded", "reset", "x"]),
                   "failure_id": fid, "created_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "target": target,
                   "request_id": rid}
            lines.append({"Logs": [{"Level": "warn", "Message": [json.dumps(msg)], "TimestampMs": ms}]})
            for a in range(rng.choice([0, 1, 3, 24, 30])):
                outcome = "failed" if rng.random() < 0.8 else rng.choice(["inserted", "duplicate"])
                rep = {"event": "audit_log_replay", "failure_id": fid, "attempt": a + 1, "outcome": outcome,
                       "error": "busy"}
                lines.append({"Logs": [{"Level": "info", "Message": [json.dumps(rep)],
                                        "TimestampMs": ms + (a + 1) * 3_600_000}]})
        if rng.random() < 0.01:
            rows.append((f"orph{i}", when(t, i), "act_unknown", None, tenant, user, target, None, None, None))
        if rng.random() < 0.005:
            rows.append((f"a{i}", "garbage", action, None, tenant, user, target, None, None, None))
    rng.shuffle(rows)  # out of time order
    ops_db, audit_db = folder / "operations.db", folder / "audit.db"
    for path in (ops_db, audit_db):
        path.unlink(missing_ok=True)
    with sqlite3.connect(ops_db) as db:
        db.execute("CREATE TABLE ops (op_id, at, operation, route, restaurant_id, user_id, target, request_id)")
        db.executemany("INSERT INTO ops VALUES (?,?,?,?,?,?,?,?)", ops)
    db.close()
    with sqlite3.connect(audit_db) as db:
        db.execute("CREATE TABLE staff_audit_logs (id, created_at, action, route, restaurant_id, user_id, target,"
                   " request_id, origin, inserted_at)")
        db.executemany("INSERT INTO staff_audit_logs VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    db.close()
    logs = folder / "logpush"
    logs.mkdir(exist_ok=True)
    text = "\n".join(json.dumps(x) for x in lines) + "\n{broken\n"
    (logs / "a.log.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    cfg = folder / "evidence.toml"
    cfg.write_text('[audit]\nurl = "sqlite:///audit.db"\n\n'
                   '[operations]\nurl = "sqlite:///operations.db"\ntable = "ops"\n'
                   '[operations.columns]\nid = "op_id"\noccurred_at = "at"\n\n'
                   '[worker_logs]\npaths = ["logpush/*.gz"]\n\n'
                   '[matching]\ntolerance_seconds = 90\nmax_replay_attempts = 24\n'
                   '[matching.actions]\nact_5 = "act_five"\n')
    return cfg


PARTITIONS = 1
"""Partitions every command reconciles in (``--partitions``): the digests must not change with it."""


def _run(args: list[str]) -> tuple[int, str, str]:
    """One CLI command, in ``PARTITIONS`` partitions (the commands' own ``--partitions``) when that is not 1."""
    if PARTITIONS != 1:
        args = [*args, "--partitions", str(PARTITIONS)]
    res = CliRunner().invoke(main, args)
    return res.exit_code, res.stdout, res.stderr


ADDED_COUNTS = ("missing_unprovable",)
"""Count keys added since the baseline: left out of a coverage digest while zero (a scenario without
``traces = "all"`` has none), so an added key alone is not a change, and any such operation still is."""


def _old_coverage(text: str) -> str:
    """The coverage JSON as it read before ADDED_COUNTS (json.dumps as the CLI writes it)."""
    try:
        rows = json.loads(text)
    except ValueError:
        return text
    rows = [{k: v for k, v in r.items() if not (k in ADDED_COUNTS and v == 0)} for r in rows]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def _old_exceptions(text: str) -> str:
    rows = [{k: r.get(k) for k in OLD_KEYS} for r in json.loads(text) if r.get("kind") in OLD_KINDS]
    return json.dumps(rows, sort_keys=True)


def digests(extra: list[str] = (), fixed: bool = True) -> dict[str, str]:
    scenarios = {} if not fixed else {"sample": (_sample_config(), []),
                 "sample-edges": (_sample_config(), ["--start", "2026-09-10", "--end", "2026-10-05"]),
                 "messy": (_messy_config(), []),
                 "messy-edges": (_messy_config(), ["--start", "2026-09-05", "--end", "2026-09-20"])}
    wrangler = _wrangler_config() if fixed else None
    if wrangler is not None:
        scenarios["wrangler"] = (wrangler, [])
    for path in extra:  # e.g. a benchmark store: named by its folder
        scenarios[f"config:{Path(path).resolve().parent.name}"] = (Path(path).resolve(), [])
    out: dict[str, str] = {}
    for name, (cfg, period) in scenarios.items():
        base = ["--config", str(cfg), *period]
        code, cov, err = _run(["coverage", *base, "--by", "day,operator,route,tenant,action", "--format", "json"])
        out[f"{name} coverage"] = _h(f"{code}\n{_old_coverage(cov)}")
        out[f"{name} warnings"] = _h("\n".join(sorted(_portable(line) for line in err.splitlines()
                                                     if line.startswith("warning"))))
        code, total, _ = _run(["coverage", *base, "--format", "json"])
        out[f"{name} totals"] = _h(f"{code}\n{_old_coverage(total)}")
        code, exc, _ = _run(["exceptions", *base, "--format", "json"])
        out[f"{name} exceptions"] = _h(f"{code}\n{_old_exceptions(exc) if code == 0 else exc}")
        code, rep, _ = _run(["replay-status", *base, "--as-of", AS_OF, "--format", "json"])
        out[f"{name} replay-status"] = _h(f"{code}\n{rep}")
        (OUT / f"{name.replace(':', '-')}.totals.json").write_text(total)
    return out


def _portable(line: str) -> str:
    """Warnings name log files by path: the checkout's folder becomes <checkout>, so digests compare
    across checkouts (the main one and worktrees)."""
    return line.replace(str(ROOT), "<checkout>")


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def main_() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--save")
    parser.add_argument("--check")
    parser.add_argument("--config", action="append", default=[],
                        help="also digest this evidence.toml (whole span); repeatable")
    parser.add_argument("--only-configs", action="store_true", help="skip the fixed scenarios")
    parser.add_argument("--partitions", type=int, default=1,
                        help="reconcile in this many partitions (evidence_app.compute): the digests must not change")
    args = parser.parse_args()
    global PARTITIONS
    PARTITIONS = args.partitions
    OUT.mkdir(parents=True, exist_ok=True)
    found = digests(args.config, fixed=not args.only_configs)
    for k, v in found.items():
        print(f"{v}  {k}")
    if args.save:
        Path(args.save).write_text(json.dumps(found, indent=1) + "\n")
    if args.check:
        kept = json.loads(Path(args.check).read_text())
        changed = sorted(k for k in kept if kept[k] != found.get(k))
        print("unchanged" if not changed else "CHANGED: " + ", ".join(changed))
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main_())
