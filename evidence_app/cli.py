"""Command line: parse → core → render. One error handler turns project errors into exit codes."""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone
from functools import wraps
from typing import Callable

import click
import pandas as pd

from evidence_app import __version__
from evidence_app.config import Config, load_config
from evidence_app.coverage import COUNT_FIELDS, coverage_table, exceptions_table, parse_dimensions
from evidence_app.dataset import Dataset, evaluate
from evidence_app.errors import EvidenceError, UsageError
from evidence_app.reconcile import Period, Reconciliation
from evidence_app.render import records, to_csv, to_json, to_table
from evidence_app.replay import replay_status

CONFIG_HELP = "evidence.toml to use (default: the bundled sample scenario)."


def handle_errors(func: Callable) -> Callable:
    """Project errors → one line on stderr and their exit code; never a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except EvidenceError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from None


def parse_period(start: str | None, end: str | None) -> Period:
    period = Period(parse_day(start, "--start"), parse_day(end, "--end"))
    if period.start and period.end and period.start > period.end:
        raise UsageError(f"--start {period.start} is after --end {period.end}")
    return period


def parse_instant(value: str | None, option: str) -> datetime:
    if value is None:
        return datetime.now(timezone.utc)
    try:
        ts = pd.Timestamp(value)
    except ValueError:
        raise UsageError(f"{option}: expected an ISO-8601 time, got {value!r}") from None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


class StderrProgress:
    """Counts per stage on stderr, redrawn in place; silent when stderr is not a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.counts: dict[str, int] = {}

    def __call__(self, stage: str, n: int) -> None:
        if not self.enabled:
            return
        self.counts[stage] = self.counts.get(stage, 0) + n
        text = "  ".join(f"{s}: {c:,}" for s, c in self.counts.items())
        click.echo(f"\rloading… {text}", err=True, nl=False)

    def done(self) -> None:
        if self.enabled and self.counts:
            click.echo("", err=True)


def run(config_path: str | None, period: Period) -> tuple[Config, Dataset, Reconciliation]:
    """Load config and data, reconcile, and report data issues on stderr."""
    config = load_config(config_path)
    progress = StderrProgress()
    data, recon = evaluate(config, period, progress)
    progress.done()
    for found in data.issues + recon.issues:
        click.echo(f"warning: {found.describe()}", err=True)
    return config, data, recon


config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
start_option = click.option("--start", help="First day of the period, YYYY-MM-DD (UTC, inclusive).")
end_option = click.option("--end", help="Last day of the period, YYYY-MM-DD (UTC, inclusive).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evidence-app")
def main() -> None:
    """Prove whether an audit trail is complete: reconcile audit rows against operations."""


@main.command()
@config_option
@start_option
@end_option
@click.option("--by", "dims", default="", help="Comma list of day, operator, route, tenant, action (empty: one total row).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "table"]), default="table", show_default=True,
              help="Output format.")
@handle_errors
def coverage(config_path: str | None, start: str | None, end: str | None, dims: str, fmt: str) -> None:
    """Coverage as logged and after replay, grouped by the chosen dimensions."""
    by = parse_dimensions(dims)
    period = parse_period(start, end)
    _, _, recon = run(config_path, period)
    table = coverage_table(recon, by)
    if fmt == "json":
        click.echo(to_json(records(table)), nl=False)
    elif fmt == "csv":
        click.echo(to_csv(table), nl=False)
    else:
        total = coverage_table(recon, [])
        if by:
            total.insert(0, by[0], "TOTAL")
            for d in by[1:]:
                total.insert(by.index(d), d, "")
            table = pd.concat([table, total[table.columns]], ignore_index=True)
        click.echo(to_table(table, [_short(c) for c in table.columns]), nl=False)


_SHORT = {"missing_pending": "m_pending", "missing_abandoned": "m_abandoned", "missing_silent": "m_silent",
          "coverage_logged": "cov_logged", "coverage_after_replay": "cov_after_replay"}


def _short(column: str) -> str:
    return _SHORT.get(column, column)


@main.command()
@config_option
@start_option
@end_option
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True,
              help="Output format.")
@handle_errors
def exceptions(config_path: str | None, start: str | None, end: str | None, fmt: str) -> None:
    """Every operation not covered, and every orphan or duplicate audit row."""
    _, _, recon = run(config_path, parse_period(start, end))
    table = exceptions_table(recon)
    click.echo(to_json(records(table)) if fmt == "json" else to_csv(table), nl=False)


@main.command("replay-status")
@config_option
@start_option
@end_option
@click.option("--as-of", "as_of", help="Measure ages at this ISO-8601 time (default: now, UTC).")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True,
              help="Output format.")
@handle_errors
def replay_status_cmd(config_path: str | None, start: str | None, end: str | None, as_of: str | None, fmt: str) -> None:
    """Where every failed audit insert stands: replayed, pending, retrying, abandoned, unconfirmed."""
    at = parse_instant(as_of, "--as-of")
    period = parse_period(start, end)
    _, data, recon = run(config_path, period)
    status = replay_status(recon.failures, at, data.logs.skipped_log_lines)
    if fmt == "json":
        click.echo(to_json(status.as_json()), nl=False)
        return
    rows = [{"metric": f"state {k}", "value": v} for k, v in status.states.items()]
    rows += [
        {"metric": "oldest pending age (s)", "value": status.oldest_pending_age_seconds},
        {"metric": "latency p50 (s)", "value": status.latency_p50},
        {"metric": "latency p95 (s)", "value": status.latency_p95},
        {"metric": "latency max (s)", "value": status.latency_max},
        {"metric": "skipped log lines", "value": status.skipped_log_lines},
    ]
    click.echo(to_table(pd.DataFrame(rows, dtype=object)), nl=False)


__all__ = ["main", "COUNT_FIELDS"]
