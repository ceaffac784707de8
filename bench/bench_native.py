"""Benchmark (issue 21): native (ADBC) reads against the Python path, each against a bare read in the same run.

    python bench/bench_native.py --config /path/to/evidence.toml [--rounds 3] [--start D --end D]
    python bench/bench_native.py --config F --code /path/to/tree/A --code /path/to/tree/B [--rounds 3]

Per round, alternating, each in its own process: the bare read of the same columns (SQLite: ``for row in
conn.execute("SELECT cols FROM t"): pass`` over both tables; a server: the DBAPI cursor, nothing kept), then
``evidence-app coverage`` and the loading phase alone (``load_dataset``), once with the Python path forced
(``EVIDENCE_APP_PYTHON_READS=1``) and once with native reads. Prints the best of the rounds and the ratios to
the bare read; the machine may be busy, so only same-run ratios mean anything. With ``--code`` (before/after):
per round the bare read, then ``evidence-app coverage`` (native reads) of each code tree in turn, each run with
that tree on ``PYTHONPATH``; best and median of the rounds, each round's ratio to its own bare read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bare(cfg: str) -> float:
    import sqlite3

    import sqlalchemy as sa

    from evidence_app.config.settings import load_config
    from evidence_app.ingest.sources import FETCH_CHUNK, _compiled, _streaming_cursor, _table, open_store

    config = load_config(cfg)
    t0 = time.perf_counter()
    for store_cfg in (config.operations, config.audit):
        store = open_store(store_cfg)
        cols = [store_cfg.columns[c] for c in sorted(store.present)]
        if store.dialect == "sqlite":
            path = Path(store_cfg.url.database)
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            for _row in conn.execute(f"SELECT {', '.join(cols)} FROM {store_cfg.table}"):
                pass
            conn.close()
            continue
        with store.engine.connect() as conn:
            sql, args = _compiled(sa.select(*_table(store_cfg, cols).c), conn.dialect)
            cursor = _streaming_cursor(conn.connection.driver_connection, conn.dialect.name)
            cursor.execute(sql, args)
            while cursor.fetchmany(FETCH_CHUNK):
                pass
            cursor.close()
    return time.perf_counter() - t0


def load(cfg: str, start: str | None, end: str | None) -> float:
    from evidence_app.cli import parse_period
    from evidence_app.config.settings import load_config
    from evidence_app.ingest.dataset import load_dataset

    config = load_config(cfg)
    t0 = time.perf_counter()
    load_dataset(config, parse_period(start, end))
    return time.perf_counter() - t0


def child(kind: str, cfg: str, start: str | None, end: str | None, python: bool, root: Path = ROOT) -> float:
    env = {**os.environ, "PYTHONPATH": str(root)}
    if python:
        env["EVIDENCE_APP_PYTHON_READS"] = "1"
    else:
        env.pop("EVIDENCE_APP_PYTHON_READS", None)
    period = [*(["--start", start] if start else []), *(["--end", end] if end else [])]
    if kind == "coverage":
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "evidence_app", "coverage", "--config", str(Path(cfg).resolve()),
                        *period], env=env, check=True, capture_output=True, cwd=root)  # -m puts the cwd first
        return time.perf_counter() - t0
    out = subprocess.run([sys.executable, __file__, "--child", kind, cfg, start or "", end or ""], env=env,
                         check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--code", action="append", default=[], help="a code tree to time (repeat: before, after)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, cfg, start, end = args.child
        print(bare(cfg) if kind == "bare" else load(cfg, start or None, end or None))
        return
    if args.code:
        print(json.dumps(compare([Path(c).resolve() for c in args.code], args), indent=1))
        return
    runs = {"bare": [], "coverage python": [], "coverage native": [], "load python": [], "load native": []}
    for _ in range(args.rounds):
        runs["bare"].append(child("bare", args.config, args.start, args.end, python=True))
        for kind in ("coverage", "load"):
            for python in (True, False):
                runs[f"{kind} {'python' if python else 'native'}"].append(
                    child(kind, args.config, args.start, args.end, python))
    floor = min(runs["bare"])
    result = {name: {"best_s": round(min(v), 2), "ratio_to_bare": round(min(v) / floor, 2),
                     "all_s": [round(x, 2) for x in v]} for name, v in runs.items()}
    for kind in ("coverage", "load"):  # each round's native time over its Python time: robust to a busy machine
        paired = sorted(n / p for n, p in zip(runs[f"{kind} native"], runs[f"{kind} python"]))
        result[f"{kind} native/python per round"] = {"median": round(paired[len(paired) // 2], 2),
                                                     "all": [round(x, 2) for x in paired]}
        to_bare = sorted(n / b for n, b in zip(runs[f"{kind} native"], runs["bare"]))
        result[f"{kind} native/bare per round"] = {"median": round(to_bare[len(to_bare) // 2], 2),
                                                   "all": [round(x, 2) for x in to_bare]}
    print(json.dumps(result, indent=1))


def compare(trees: list[Path], args: argparse.Namespace) -> dict:
    """Per round: the bare read, then ``coverage`` (native reads) of each tree; best, median, ratios per round."""
    runs: dict[str, list[float]] = {"bare": [], **{f"coverage {t}": [] for t in trees}}
    for _ in range(args.rounds):
        runs["bare"].append(child("bare", args.config, args.start, args.end, python=True))
        for tree in trees:
            runs[f"coverage {tree}"].append(child("coverage", args.config, args.start, args.end, False, tree))
    out = {}
    for name, times in runs.items():
        ratios = sorted(t / b for t, b in zip(times, runs["bare"]))
        out[name] = {"best_s": round(min(times), 2), "median_s": round(sorted(times)[len(times) // 2], 2),
                     "all_s": [round(x, 2) for x in times], "best_over_best_bare": round(min(times) / min(runs["bare"]), 2),
                     "median_ratio_per_round": round(ratios[len(ratios) // 2], 2)}
    return out


if __name__ == "__main__":
    main()
