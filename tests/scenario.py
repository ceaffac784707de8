"""Small reconciliation scenarios built in code: SQLite stores, Logpush files and evidence.toml."""

from __future__ import annotations

import gzip
import json
import os
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from evidence_app.cli import main

T0 = datetime(2026, 10, 1, 12, 0, 0, tzinfo=timezone.utc)
OPS_COLUMNS = ("id", "occurred_at", "operation", "route", "restaurant_id", "user_id", "target", "request_id")
AUDIT_COLUMNS = ("id", "created_at", "action", "route", "restaurant_id", "user_id", "target",
                 "request_id", "origin", "inserted_at")


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def sql_ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Scenario:
    """A tiny world: operations, audit rows, worker-log events; written on demand."""

    root: Path
    ops: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    extra_config: str = ""

    def op(self, id: str, at: datetime = T0, operation: str = "cache_purge", tenant: str = "r1",
           user: str = "u1", target: str = '["m-1"]', request_id: str | None = None,
           route: str | None = "/api/cache-purge", audit_logged: Any = None) -> "Scenario":
        """An operation; ``audit_logged`` (the API's flag, any stored form) adds that column to the store
        when any operation sets it."""
        op = dict(id=id, occurred_at=iso(at), operation=operation, route=route, restaurant_id=tenant, user_id=user,
                  target=target, request_id=request_id)
        self.ops.append(op if audit_logged is None else op | {"audit_logged": audit_logged})
        return self

    def row(self, id: str, at: Any = T0, action: str = "cache_purge", tenant: str = "r1", user: str = "u1",
            target: str = '["m-1"]', request_id: str | None = None, origin: str | None = None,
            inserted_at: Any = None, route: str = "/api/cache-purge") -> "Scenario":
        created = sql_ts(at) if isinstance(at, datetime) else at
        inserted = sql_ts(inserted_at) if isinstance(inserted_at, datetime) else inserted_at
        self.rows.append(dict(id=id, created_at=created, action=action, route=route, restaurant_id=tenant,
                              user_id=user, target=target, request_id=request_id, origin=origin,
                              inserted_at=inserted))
        return self

    def failure(self, failure_id: str, at: datetime = T0, operation: str = "cache_purge", tenant: str = "r1",
                user: str = "u1", target: str = '["m-1"]', request_id: str | None = None,
                error: str = "D1_ERROR: overloaded", route: str | None = "/api/cache-purge",
                logged_at: datetime | None = None) -> "Scenario":
        """A failure event, logged one second after the operation unless ``logged_at`` says otherwise."""
        msg = {"event": "audit_log_insert_failed", "route": route, "operation": operation,
               "restaurant_id": tenant, "user_id": user, "error": error, "failure_id": failure_id,
               "created_at": iso(at), "action": operation, "target": target, "request_id": request_id}
        return self.log(logged_at or at + timedelta(seconds=1), msg)

    def replay(self, failure_id: str, attempt: int, outcome: str, at: datetime, error: str | None = None) -> "Scenario":
        msg = {"event": "audit_log_replay", "failure_id": failure_id, "attempt": attempt, "outcome": outcome}
        if error:
            msg["error"] = error
        return self.log(at, msg)

    def log(self, at: datetime, message: Any, level: str = "warn") -> "Scenario":
        text = message if isinstance(message, str) else json.dumps(message)
        ms = int(at.timestamp() * 1000)
        self.log_lines.append(json.dumps({"EventTimestampMs": ms, "Outcome": "ok",
                                          "Logs": [{"Level": level, "Message": [text], "TimestampMs": ms}]}))
        return self

    # ------------------------------------------------------------------ writing

    def write(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        flagged = any("audit_logged" in o for o in self.ops)
        _table(self.root / "operations.db", "operations", OPS_COLUMNS + (("audit_logged",) if flagged else ()), self.ops)
        _table(self.root / "audit.db", "staff_audit_logs", AUDIT_COLUMNS, self.rows)
        logs = self.root / "logpush" / "20261001"
        logs.mkdir(parents=True, exist_ok=True)
        (logs / "events.log.gz").write_bytes(gzip.compress(("\n".join(self.log_lines) + "\n").encode(), mtime=0))
        cfg = self.root / "evidence.toml"
        cfg.write_text(
            '[organisation]\nname = "Test GmbH"\n\n'
            '[audit]\nurl = "sqlite:///audit.db"\ntable = "staff_audit_logs"\n\n'
            '[operations]\nurl = "sqlite:///operations.db"\ntable = "operations"\n\n'
            '[worker_logs]\npaths = ["logpush/**/*.log.gz"]\n\n' + self.extra_config,
            encoding="utf-8",
        )
        return cfg

    def cli(self, *args: str) -> "Result":
        cfg = self.write()
        result = CliRunner().invoke(main, [args[0], "--config", str(cfg), *args[1:]])
        return Result(result.exit_code, result.stdout, result.stderr)

    def json(self, *args: str) -> Any:
        res = self.cli(*args, "--format", "json")
        assert res.code == 0, res.stderr
        return json.loads(res.stdout)

    def states(self) -> dict[str, str]:
        """operation id → state, via the public exceptions + coverage path."""
        from evidence_app.assess.pipeline import evaluate
        from evidence_app.config.settings import load_config
        from evidence_app.reconcile import Period

        _, recon = evaluate(load_config(self.write()), Period())
        return dict(zip(recon.operations["id"], recon.operations["state"]))

    def recon(self, start=None, end=None):
        from evidence_app.assess.pipeline import evaluate
        from evidence_app.config.settings import load_config
        from evidence_app.reconcile import Period

        return evaluate(load_config(self.write()), Period(start, end))[1]


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def _table(path: Path, name: str, columns: tuple[str, ...], records: list[dict]) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE {name} ({', '.join(columns)})")
        db.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(columns))})",
                       [tuple(r.get(c) for c in columns) for r in records])
    db.close()


# ------------------------------------------------------------------ scenarios on a database server


def load_server(admin: sa.Engine, scenario, suffix: str, native_times: bool) -> tuple[str, str]:
    """Copy a scenario into two server tables; operations keep native timestamps, audit text."""
    # The process id keeps concurrent test runs (several checkouts on one server) apart.
    ops_t, audit_t = f"ev_ops_{suffix}_{os.getpid()}", f"ev_audit_{suffix}_{os.getpid()}"
    md = sa.MetaData()
    ts_type = sa.DateTime(timezone=True) if native_times else sa.String(40)
    ops = sa.Table(ops_t, md, sa.Column("id", sa.String(40), primary_key=True), sa.Column("occurred_at", ts_type),
                   *(sa.Column(c, sa.String(200)) for c in ("operation", "route", "restaurant_id", "user_id",
                                                            "target", "request_id")))
    audit = sa.Table(audit_t, md, sa.Column("id", sa.String(40), primary_key=True),
                     *(sa.Column(c, sa.String(200)) for c in ("created_at", "action", "route", "restaurant_id",
                                                              "user_id", "target", "request_id", "origin",
                                                              "inserted_at")))
    md.drop_all(admin)
    md.create_all(admin)
    op_rows = [dict(o) for o in scenario.ops]
    if native_times:
        for o in op_rows:
            o["occurred_at"] = datetime.fromisoformat(o["occurred_at"].replace("Z", "+00:00"))
    with admin.begin() as conn:
        conn.execute(ops.insert(), op_rows)
        conn.execute(audit.insert(), scenario.rows)
    return ops_t, audit_t


def server_config(scenario, url: str, ops_t: str, audit_t: str):
    """The scenario's config pointed at the server's two tables."""
    cfg = scenario.write()
    text = cfg.read_text()
    text = text.replace('url = "sqlite:///audit.db"', f'url = "{url}"').replace(
        'url = "sqlite:///operations.db"', f'url = "{url}"')
    text = text.replace('table = "staff_audit_logs"', f'table = "{audit_t}"').replace(
        'table = "operations"', f'table = "{ops_t}"')
    cfg.write_text(text)
    return cfg


def server_copy(admin, scenario, tag: str, url: str):
    """The scenario loaded into a server (native operation times) and a config pointing at it."""
    ops_t, audit_t = load_server(admin, scenario, tag, native_times=True)
    return server_config(scenario, url, ops_t, audit_t)


# ------------------------------------------------------------------ random scenarios

OFFSETS = (-250, -121, -120, -119, -60, -1, 0, 0, 1, 30, 119, 120, 121, 240)
GRID = (-120, -60, 0, 60, 120)
"""Operations on a grid and rows between grid points: equal distances to two operations (ties by id)."""
BETWEEN = (-90, -30, 0, 30, 90)
TARGETS = ('["m-1"]', '["m-2"]', '{"a": 2, "b": 1}', '{"b":1,"a":2}')
ROUTES = ("/r/a", "/r/b", None)
FLAGS = (None, None, True, False, 1, 0, "true", "false")
BLANKS = (None, "", "  ")
"""Missing values a row may carry instead of a field (each makes the row incomplete, never inaccurate)."""
FIX_OFFSETS = (-3600, -120, 0, 60, 119, 120, 3600)
"""Fix times around the operations (exactly at an operation's time too), in seconds from T0."""


def _blank_or(rng: random.Random, value, share: float = 0.08):
    return rng.choice(BLANKS) if rng.random() < share else value


def _pick(rng: random.Random, values, none_share: float = 0.0):
    return None if rng.random() < none_share else rng.choice(values)


def random_scenario(rng: random.Random, root) -> Scenario:
    """A small random scenario (operations, rows, failure events, replays, a [matching] and [remediation] section)
    built to reach every state, tie and blank: the input the kernel is held to the reference on."""
    sc = Scenario(root)
    numeric_ids = rng.random() < 0.5
    n_ops, n_rows, n_failures = rng.randint(0, 8), rng.randint(0, 10), rng.randint(0, 4)
    op_ids = [str(i) if numeric_ids else f"o-{chr(97 + i)}" for i in rng.sample(range(0, 20), n_ops)]
    ops = []
    for oid in op_ids:
        op = dict(at=T0 + timedelta(seconds=rng.choice(GRID if rng.random() < 0.5 else OFFSETS)), operation=rng.choice(["cache_purge", "menu_publish"]),
                  tenant=_pick(rng, ["r1", "r2"], 0.1), user=_pick(rng, ["u1", "u2"], 0.1),
                  target=_pick(rng, TARGETS, 0.05), request_id=_pick(rng, ["q1", "q2", "q3"], 0.6),
                  route=rng.choice(ROUTES))
        ops.append(op)
        sc.op(oid, **op, audit_logged=rng.choice(FLAGS))
    for j in range(n_rows):
        base = rng.choice(ops) if ops and rng.random() < 0.8 else dict(
            at=T0, operation="cache_purge", tenant="r1", user="u1", target='["m-1"]', request_id=None)
        at = (base["at"] + timedelta(seconds=rng.choice(OFFSETS + (0, 0, 0))) if rng.random() < 0.6
              else T0 + timedelta(seconds=rng.choice(BETWEEN)))
        sc.row(str(j * 3 % 11) if numeric_ids and j < 11 else f"a-{j:02d}", at,
               action=_blank_or(rng, base["operation"] if rng.random() < 0.9 else "refund_create", 0.04),
               tenant=_blank_or(rng, base["tenant"] if rng.random() < 0.85 else "r2"),
               user=_blank_or(rng, base["user"] if rng.random() < 0.85 else "u9"),
               target=_blank_or(rng, rng.choice(TARGETS) if rng.random() < 0.3 else base["target"]),
               request_id=base["request_id"] if rng.random() < 0.7 else _pick(rng, ["q1", "q4"], 0.5),
               origin=rng.choice([None, "live", "replay", "backfill", "Replay "]),
               inserted_at=rng.choice([None, at + timedelta(hours=1)]))
    for k in range(n_failures):
        base = rng.choice(ops) if ops and rng.random() < 0.75 else dict(
            at=T0 + timedelta(seconds=7), operation="menu_publish", tenant="r2", user="u2", target='["m-2"]',
            request_id=None)
        fid = f"f{k}"
        at = base["at"] + timedelta(seconds=rng.choice((0, 0, 5, 119, 120, 121)))
        sc.failure(fid, at, operation=base["operation"], tenant=base["tenant"], user=base["user"],
                   target=base["target"], request_id=base["request_id"],
                   route=base.get("route") if rng.random() < 0.8 else rng.choice(ROUTES),
                   logged_at=at + timedelta(seconds=rng.choice((1, 1, 60, 3600))))
        for a in range(rng.choice([0, 0, 1, 2, 3, 4])):
            sc.replay(fid, rng.choice([a + 1, a + 1, None]) if rng.random() < 0.9 else a + 1,
                      rng.choice(["failed", "failed", "failed", "inserted", "duplicate"]),
                      T0 + timedelta(hours=a + 1))
    sc.extra_config = f"[matching]\nmax_replay_attempts = {rng.choice([2, 3, 24])}\n" + _remediation(rng)
    return sc


def _remediation(rng: random.Random) -> str:
    """A random [remediation] section: none, a global fix time, per-route ones, an SLA."""
    lines = ["[remediation]"]
    if rng.random() < 0.6:
        lines.append(f'fixed_at = "{iso(T0 + timedelta(seconds=rng.choice(FIX_OFFSETS)))}"')
    lines.append(f"replay_sla_seconds = {rng.choice([60, 3600, 7200])}")
    if rng.random() < 0.4:
        lines.append("[remediation.routes]")
        lines.append(f'"{rng.choice(ROUTES[:2])}" = "{iso(T0 + timedelta(seconds=rng.choice(FIX_OFFSETS)))}"')
    return "\n".join(lines) + "\n"
