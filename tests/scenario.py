"""Small reconciliation scenarios built in code: SQLite stores, Logpush files and evidence.toml."""

from __future__ import annotations

import gzip
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

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
