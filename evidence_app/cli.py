"""Command line: parse → core → render. One error handler turns project errors into exit codes."""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Callable

import click
import pandas as pd

from evidence_app import __version__
from evidence_app.config import Config, load_config
from evidence_app.errors import EvidenceError, UsageError
from evidence_app.evidence.sign import PASSPHRASE_ENV
from evidence_app.ingest.dataset import Dataset
from evidence_app.masking import mask_logs, mask_text
from evidence_app.pipeline import evaluate
from evidence_app.reconcile import Period, Reconciliation, Scope
from evidence_app.reconcile.coverage import (
    coverage_table,
    exceptions_table,
    parse_dimensions,
)
from evidence_app.reconcile.replay import replay_status
from evidence_app.render import records, to_csv, to_json, to_table

CONFIG_HELP = "evidence.toml to use (default: the bundled sample scenario)."


def handle_errors(func: Callable) -> Callable:
    """Project errors → one line on stderr and their exit code; never a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except EvidenceError as exc:
            click.echo(f"error: {mask_text(str(exc))}", err=True)
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
    """An ISO-8601 time (no zone means UTC) as a UTC datetime; anything else is a usage error naming the option."""
    if value is None:
        return datetime.now(timezone.utc)
    try:
        ts = pd.Timestamp(value)
        if pd.isna(ts):  # "", "NaT", "nan" parse as not-a-time
            raise ValueError(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.to_pydatetime()
    except (ValueError, TypeError, OverflowError):  # also a time past year 9999 once in UTC
        raise UsageError(f"{option}: expected an ISO-8601 time, got {value!r}") from None


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
    warn(data, recon)
    return config, data, recon


def warn(data: Dataset, recon: Reconciliation) -> None:
    """Findings about the sources (a role that can write) and every counted data problem, one
    ``warning:`` line each on stderr, credentials masked."""
    lines = [f"{s.key}: finding: {s.finding}" for s in data.sources if s.finding]
    lines += [found.describe() for found in data.issues + recon.issues]
    for line in lines:
        click.echo(f"warning: {mask_text(line)}", err=True)


config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
start_option = click.option("--start", help="First day of the period, YYYY-MM-DD (UTC, inclusive).")
end_option = click.option("--end", help="Last day of the period, YYYY-MM-DD (UTC, inclusive).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evidence-app")
def main() -> None:
    """Prove whether an audit trail is complete: reconcile audit rows against operations."""
    mask_logs()


@main.command()
@config_option
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to bind (127.0.0.1 keeps the app on this machine).")
@handle_errors
def serve(config_path: str | None, port: int, address: str) -> None:
    """Start the web app (Streamlit) on the given config, the bundled sample by default."""
    import os

    config = load_config(config_path)  # a bad config fails here, with exit code 2, not in the browser
    ui = Path(__file__).resolve().parent / "ui"
    env = dict(os.environ, EVIDENCE_APP_CONFIG=str(config.path))
    click.echo(f"evidence-app on http://{address}:{port} — {config.path}", err=True)
    os.chdir(ui)  # Streamlit reads ui/.streamlit/config.toml (theme, server settings) from here
    os.execve(sys.executable, [sys.executable, "-m", "streamlit", "run", str(ui / "app.py"),
                               "--server.port", str(port), "--server.address", address], env)


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


def parse_scope(values: tuple[str, ...]) -> Scope:
    """``--scope tenant=a --scope tenant=b --scope action=x`` → Scope (same key repeated means OR)."""
    found: dict[str, list[str]] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not value.strip() or key not in ("tenant", "operator", "route", "action"):
            raise UsageError(f"--scope: expected tenant|operator|route|action=VALUE, got {item!r}")
        found.setdefault(key, []).append(value.strip())
    return Scope(**{k: tuple(v) for k, v in found.items()})


@main.command()
@config_option
@click.option("--start", required=True, help="First day of the period, YYYY-MM-DD (UTC, inclusive).")
@click.option("--end", required=True, help="Last day of the period, YYYY-MM-DD (UTC, inclusive).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF to write.")
@click.option("--key", type=click.Path(path_type=Path), help="Signing key (PEM).")
@click.option("--cert", type=click.Path(path_type=Path), help="Signer certificate (PEM).")
@click.option("--chain", type=click.Path(path_type=Path), help="CA certificates to embed (PEM).")
@click.option("--pkcs12", type=click.Path(path_type=Path), help="Key and certificate as one PKCS#12 file.")
@click.option("--passphrase-file", type=click.Path(path_type=Path),
              help=f"File holding the key passphrase (else ${PASSPHRASE_ENV} is used; never an argument).")
@click.option("--passphrase-env", default=PASSPHRASE_ENV, show_default=True,
              help="Environment variable holding the key passphrase.")
@click.option("--tsa", "tsa", help="RFC 3161 timestamp authority URL (PAdES B-T).")
@click.option("--previous", type=click.Path(path_type=Path), help="Previous pack: its SHA-256 chains this one to it.")
@click.option("--scope", "scope", multiple=True, help="Filter KEY=VALUE (tenant, operator, route, action); repeatable.")
@click.option("--generated-at", "generated_at", help="Generation time, ISO-8601 (for reproducible output).")
@click.option("--sample-seed", type=int, help="Seed of the re-performance sample (default: derived from the data).")
@handle_errors
def pack(config_path, start, end, out, key, cert, chain, pkcs12, passphrase_file, passphrase_env, tsa, previous,
         scope, generated_at, sample_seed) -> None:  # noqa: ANN001
    """Build a signed PDF evidence pack with the full population attached."""
    from evidence_app.evidence.build import build_pack
    from evidence_app.evidence.sign import SigningOptions

    period = parse_period(start, end)
    at = parse_instant(generated_at, "--generated-at")
    signing = SigningOptions(key=key, cert=cert, chain=chain, pkcs12=pkcs12, passphrase_file=passphrase_file,
                             passphrase_env=passphrase_env, tsa_url=tsa)
    config = load_config(config_path)
    stages = ["reconciling", "writing extracts", "laying out the PDF", "signing", "done"]
    with click.progressbar(length=len(stages), label="building pack", file=sys.stderr) as bar:
        built = build_pack(config, period, parse_scope(scope), signing, at, out=out, previous=previous,
                           sample_seed=sample_seed, step=lambda _s: bar.update(1))
    warn(built.contents.data, built.contents.recon)
    t = built.contents.summary.totals
    click.echo(f"{out}: pack {built.manifest['pack_id']}, {len(built.data) / 1024:,.0f} KiB, "
               f"{t.expected:,} operations, coverage after replay "
               f"{(t.coverage_after_replay or 0) * 100:.2f}%")


@main.command()
@click.argument("pdf_file", type=click.Path(path_type=Path))
@click.option("--trust", type=click.Path(path_type=Path), help="Trusted root certificate (PEM) the signer must chain to.")
@click.option("--previous", type=click.Path(path_type=Path), help="The pack this one claims to follow.")
@handle_errors
def verify(pdf_file: Path, trust: Path | None, previous: Path | None) -> None:
    """Check a pack: signature over the entire file, trust, every attachment against the manifest, chain."""
    from evidence_app.evidence.verify import verify_pack

    try:
        data = pdf_file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {pdf_file}: {exc.strerror}") from None
    if trust is not None and not trust.is_file():
        raise UsageError(f"--trust: file not found: {trust}")
    result = verify_pack(data, trust, previous)
    for check in result.checks:
        mark = {True: "OK  ", False: "FAIL", None: "INFO"}[check.ok]
        click.echo(f"{mark}  {check.name}: {check.detail}")
    failed = [c.name for c in result.checks if c.ok is False]
    click.echo(f"verification {'passed' if result.ok else 'FAILED'}: "
               f"{sum(c.ok is True for c in result.checks)} passed, {len(failed)} failed")
    sys.exit(0 if result.ok else 1)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="evidence-app trial signer", show_default=True, help="Common name of the identity.")
@click.option("--passphrase-file", type=click.Path(path_type=Path), help="Encrypt the key with the passphrase in this file.")
@click.option("--passphrase-env", default=PASSPHRASE_ENV, show_default=True,
              help="…or with the passphrase in this environment variable (if set).")
@handle_errors
def keygen(folder: Path, name: str, passphrase_file: Path | None, passphrase_env: str) -> None:
    """Make a self-signed signing identity for trials (key.pem, cert.pem)."""
    from evidence_app.evidence.sign import SigningOptions, read_passphrase
    from evidence_app.evidence.sign import keygen as make_identity

    passphrase = read_passphrase(SigningOptions(passphrase_file=passphrase_file, passphrase_env=passphrase_env))
    key, cert = make_identity(folder, name, passphrase)
    click.echo(f"wrote {key} ({'encrypted' if passphrase else 'unencrypted'}) and {cert} — self-signed, for trials")


__all__ = ["main"]
