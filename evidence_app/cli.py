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
from evidence_app.assess.span import DataSpan
from evidence_app.compute.aggregate import ViewFigures
from evidence_app.compute.configured import evaluate_configured, figures_configured
from evidence_app.config.compute import MAX_PARTITIONS, checked_scheduler, overridden
from evidence_app.config.settings import Config, load_config
from evidence_app.errors import ConfigError, EvidenceError, UsageError
from evidence_app.evidence.sign import PASSPHRASE_ENV
from evidence_app.formatting import duration, percent
from evidence_app.ingest.dataset import Dataset, SourceReport
from evidence_app.issues import DataIssue
from evidence_app.masking import mask_logs, mask_text
from evidence_app.reconcile import Period, Reconciliation, Scope
from evidence_app.reconcile.coverage import (
    exceptions_table,
    parse_dimensions,
)
from evidence_app.reconcile.replay import replay_status
from evidence_app.reconcile.rules import OpState, TraceMode, describe_log_completeness
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
    except ValueError as exc:
        raise UsageError(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from exc


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
    except (ValueError, TypeError, OverflowError) as exc:  # also a time past year 9999 once in UTC
        raise UsageError(f"{option}: expected an ISO-8601 time, got {value!r}") from exc


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
    config = load(config_path)
    progress = StderrProgress()
    data, recon = evaluate_configured(config, period, progress)
    progress.done()
    warn(data, recon)
    return config, data, recon


def run_figures(config: Config, period: Period, views: list[tuple[str, ...]],
                summary_at: datetime | None = None) -> ViewFigures:
    """What coverage, check and remediation show (partitioned: by the aggregate path, no record held here), with
    the data problems reported on stderr as :func:`run` reports them."""
    progress = StderrProgress()
    figures = figures_configured(config, period, views, progress, summary_at=summary_at)
    progress.done()
    say_warnings(figures.sources, figures.issues, figures.span, figures.config, figures.tolerance_seconds)
    return figures


def warn(data: Dataset, recon: Reconciliation) -> None:
    """Findings about the sources (a role that can write) and every counted data problem, one
    ``warning:`` line each on stderr, credentials masked; a period reaching outside every source, one ``note:``."""
    from evidence_app.assess.span import data_span

    say_warnings(data.sources, data.issues + recon.issues, data_span(data), data.config, recon.tolerance_seconds)


def say_warnings(sources: tuple[SourceReport, ...], issues: tuple[DataIssue, ...], span: DataSpan, config: Config,
                 tolerance_seconds: int) -> None:
    """:func:`warn`'s lines from what it reads of a run (held whole, or added up from partitions)."""
    lines = [f"{s.key}: finding: {s.finding}" for s in sources if s.finding]
    lines += [found.describe() for found in issues]
    for line in lines:
        click.echo(f"warning: {mask_text(line)}", err=True)
    outside = span.warning
    if outside:  # a note, not a warning: the data are fine, the question reaches past them
        click.echo(f"note: {outside}", err=True)
    if config.worker_logs.traces != TraceMode.ALL:  # every output says what a silent drop does not prove
        click.echo(f"note: {describe_log_completeness(config.worker_logs.traces, tolerance_seconds)}", err=True)


config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
start_option = click.option("--start", help="First day of the period, YYYY-MM-DD (UTC, inclusive).")
end_option = click.option("--end", help="Last day of the period, YYYY-MM-DD (UTC, inclusive).")


COMPUTE_META = "evidence_app.compute"
"""Where a command's ``--partitions``/``--scheduler`` wait in click's context for :func:`load`."""


class SchedulerAddress(click.ParamType):
    """``--scheduler``: checked as ``[compute] scheduler`` is (tcp://HOST:PORT), anything else exit 2, masked."""

    name = "address"

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        try:
            return checked_scheduler(value, "--scheduler", UsageError)
        except UsageError as exc:
            self.fail(str(exc).partition(": ")[2], param, ctx)


def compute_options(func: Callable) -> Callable:
    """``--partitions N`` and ``--scheduler tcp://HOST:PORT``, overriding ``[compute]`` for a command that reads
    the sources (picked up by :func:`load`)."""

    @click.option("--partitions", type=click.IntRange(1, MAX_PARTITIONS), metavar="N",
                  help="Reconcile in N exact partitions by tenant (default: [compute] partitions, else 1); "
                       "the numbers are the same for every N.")
    @click.option("--scheduler", type=SchedulerAddress(), metavar="tcp://HOST:PORT",
                  help="Run the partitions on this Dask distributed scheduler (default: [compute] scheduler, "
                       "else in this process).")
    @wraps(func)
    def wrapper(*args, partitions: int | None = None, scheduler: str | None = None, **kwargs):
        click.get_current_context().meta[COMPUTE_META] = (partitions, scheduler)
        return func(*args, **kwargs)

    return wrapper


def load(config_path: str | None) -> Config:
    """The config, with the command's ``--partitions``/``--scheduler`` in place of ``[compute]``'s where given."""
    ctx = click.get_current_context(silent=True)
    partitions, scheduler = ctx.meta.get(COMPUTE_META, (None, None)) if ctx is not None else (None, None)
    return overridden(load_config(config_path), partitions, scheduler)


def format_option(*choices: str, default: str) -> Callable:
    """``--format`` with the output formats a command offers."""
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
                        help="Output format.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evidence-app")
def main() -> None:
    """Prove whether an audit trail is complete: reconcile audit rows against operations."""
    mask_logs()


@main.command()
@config_option
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to bind (127.0.0.1 keeps the app on this machine; any other needs [access] sign-in).")
@compute_options
@handle_errors
def serve(config_path: str | None, port: int, address: str) -> None:
    """Start the web app (Streamlit) on the given config, the bundled sample by default."""
    from evidence_app.ui import serving

    config = load(config_path)  # a bad config fails here, with exit code 2, not in the browser
    launch = serving.prepare(config, address, port)
    click.echo(f"evidence-app on http://{serving.url_host(address)}:{port} — {config.path}"
               + (" — sign-in required" if config.access else ""), err=True)
    sys.exit(serving.run(launch))


@main.command()
@config_option
@start_option
@end_option
@click.option("--by", "dims", default="", help="Comma list of day, operator, route, tenant, action (empty: one total row).")
@click.option("--metadata", is_flag=True,
              help="JSON only: an object {period, data_span, rows} instead of the bare list of rows (the rows "
                   "unchanged), stating each source's span in the period and the days without any operation.")
@format_option("json", "csv", "table", default="table")
@compute_options
@handle_errors
def coverage(config_path: str | None, start: str | None, end: str | None, dims: str, metadata: bool,
             fmt: str) -> None:
    """Coverage as logged and after replay, grouped by the chosen dimensions."""
    by = parse_dimensions(dims)
    period = parse_period(start, end)
    if metadata and fmt != "json":
        raise UsageError("--metadata: only with --format json")
    views = [tuple(by)] + ([()] if fmt == "table" and by else [])  # the table format adds a TOTAL line
    figures = run_figures(load(config_path), period, views)
    table = figures.tables[tuple(by)]
    if fmt == "json" and metadata:
        click.echo(to_json(coverage_metadata(period, figures.span.as_json(), records(table))), nl=False)
    elif fmt == "json":
        click.echo(to_json(records(table)), nl=False)
    elif fmt == "csv":
        click.echo(to_csv(table), nl=False)
    else:
        total = figures.tables[()]
        if by:
            total.insert(0, by[0], "TOTAL")
            for d in by[1:]:
                total.insert(by.index(d), d, "")
            table = pd.concat([table, total[table.columns]], ignore_index=True)
        click.echo(to_table(table, [_short(c) for c in table.columns]), nl=False)


def coverage_metadata(period: Period, span: dict, rows: list[dict]) -> dict:
    """``coverage --format json --metadata``: the period asked for (null: open), the data span, the rows."""
    return {"period": {"start": period.start and period.start.isoformat(), "end": period.end and period.end.isoformat()},
            "data_span": span, "rows": rows}


_SHORT = {OpState.MISSING_PENDING: "m_pending", OpState.MISSING_ABANDONED: "m_abandoned",
          OpState.MISSING_SILENT: "m_silent", OpState.MISSING_UNPROVABLE: "m_unprovable",
          "coverage_logged": "cov_logged", "coverage_after_replay": "cov_after_replay"}


def _short(column: str) -> str:
    return _SHORT.get(column, column)


@main.command()
@config_option
@start_option
@end_option
@format_option("json", "csv", default="json")
@compute_options
@handle_errors
def exceptions(config_path: str | None, start: str | None, end: str | None, fmt: str) -> None:
    """Every operation not covered, and every orphan or duplicate audit row."""
    _, _, recon = run(config_path, parse_period(start, end))
    table = exceptions_table(recon)
    click.echo(to_json(records(table)) if fmt == "json" else to_csv(table), nl=False)


@main.command()
@config_option
@start_option
@end_option
@format_option("json", "table", "csv", default="table")
@compute_options
@handle_errors
def logs(config_path: str | None, start: str | None, end: str | None, fmt: str) -> None:
    """The Worker logs' own health for the period: files, invocations, truncated and duplicate deliveries, traced
    and untraced operations, and the gaps where operations happened and no invocation is in the logs."""
    from evidence_app.assess.log_health import log_health

    period = parse_period(start, end)
    _, data, recon = run(config_path, period)
    health = log_health(data, recon, period)
    if fmt == "json":
        click.echo(to_json(health.as_json()), nl=False)
    elif fmt == "csv":
        click.echo(to_csv(health.by_day), nl=False)
    else:
        figures = health.as_json()
        gaps = figures.pop("gaps")
        click.echo("\n".join(f"{k}: {'—' if v is None else v}" for k, v in figures.items()))
        click.echo(f"gaps: {len(gaps)}")
        if gaps:
            click.echo(to_table(pd.DataFrame(gaps)), nl=False)
        if not health.by_day.empty:
            click.echo("\n" + to_table(health.by_day), nl=False)


@main.command("replay-status")
@config_option
@start_option
@end_option
@click.option("--as-of", "as_of", help="Measure ages at this ISO-8601 time (default: now, UTC).")
@format_option("json", "table", default="table")
@compute_options
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
    rows = [{"metric": f"state {k}", "value": f"{v:,}"} for k, v in status.states.items()]
    oldest = status.oldest_pending_age_seconds
    rows += [  # for people: durations in days/hours/minutes (the JSON keeps seconds)
        {"metric": "oldest pending age", "value": "none" if oldest is None else duration(oldest)},
        {"metric": "latency p50", "value": duration(status.latency_p50)},
        {"metric": "latency p95", "value": duration(status.latency_p95)},
        {"metric": "latency max", "value": duration(status.latency_max)},
        {"metric": "skipped log lines", "value": f"{status.skipped_log_lines:,}"},
    ]
    click.echo(to_table(pd.DataFrame(rows, dtype=object)), nl=False)


as_of_option = click.option("--as-of", "as_of",
                            help="Judge fix times and measure ages at this ISO-8601 time (default: now, UTC).")


@main.command()
@config_option
@start_option
@end_option
@as_of_option
@format_option("json", "csv", "table", default="table")
@compute_options
@handle_errors
def remediation(config_path: str | None, start: str | None, end: str | None, as_of: str | None, fmt: str) -> None:
    """Did the fix work? Per route: effective fix time, silent drops before/after it, replays within the SLA,
    audit_logged cross-checks, and swept / not_swept / unknown."""
    at = parse_instant(as_of, "--as-of")
    table = run_figures(load(config_path), parse_period(start, end), [], summary_at=at).summary.remediation.routes
    if fmt == "json":
        click.echo(to_json(records(table)), nl=False)
    elif fmt == "csv":
        click.echo(to_csv(table), nl=False)
    else:
        click.echo(to_table(table, [_REMEDIATION_SHORT.get(c, c) for c in table.columns]), nl=False)


_REMEDIATION_SHORT = {"effective_fixed_at": "fixed_at", "missing_silent_before_fix": "silent_before",
                      "missing_silent_after_fix": "silent_after", "replayed_within_sla": "within_sla",
                      "replay_sla_seconds": "sla_s", "audit_logged_false": "flag_false",
                      "audit_logged_false_without_failure_event": "false_no_event",
                      "audit_logged_true_not_logged": "true_not_logged"}


class Threshold(click.ParamType):
    """A ``check`` option read and bounded by the same Limit as its ``[check]`` key: finite, in range, or exit 2."""

    def __init__(self, key: str) -> None:
        from evidence_app.config.monitoring import CheckConfig
        from evidence_app.config.thresholds import limit_of

        self.limit = limit_of(CheckConfig, key)
        self.name = "integer" if self.limit.kind is int else "number"

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(value) if self.limit.kind is int else float(value)
            except (TypeError, ValueError):
                self.fail(f"{self.limit.words} expected, got {value!r}", param, ctx)
        try:
            return self.limit.read("value", number)
        except ConfigError:
            self.fail(f"must be {self.limit.words}, got {value!r}", param, ctx)


@main.command()
@config_option
@start_option
@end_option
@as_of_option
@click.option("--min-coverage-after-replay", type=Threshold("min_coverage_after_replay"), metavar="RATIO",
              help="Breach when coverage after replay is below this ratio, 0..1 (default: [check] or unchecked).")
@click.option("--min-coverage-logged", type=Threshold("min_coverage_logged"), metavar="RATIO",
              help="Breach when coverage as logged is below this ratio, 0..1 (default: [check] or unchecked).")
@click.option("--max-pending-age", type=Threshold("max_pending_age"), metavar="SECONDS",
              help="Breach when the oldest pending failure event is older (default: [check] or unchecked).")
@click.option("--max-silent-after-fix", type=Threshold("max_silent_after_fix"), metavar="N",
              help="Breach when more operations were dropped silently after their route's fix "
                   "(default: [check] or unchecked).")
@click.option("--max-unprovable", type=Threshold("max_unprovable"), metavar="N",
              help="Breach when more missing operations are unprovable from the logs (traces = \"all\"; default: "
                   "[check] or unchecked).")
@click.option("--max-inaccurate", type=Threshold("max_inaccurate"), metavar="N",
              help="Breach when more audit rows are inaccurate (default: [check] or unchecked).")
@click.option("--fail-on-unconfirmed/--allow-unconfirmed", "fail_on_unconfirmed", default=None,
              help="Breach on any unconfirmed replay, or allow them (default: [check] or fail).")
@click.option("--webhook", metavar="URL", help="POST the result as JSON, with a one-line `text`, to this http(s) URL.")
@format_option("json", "table", default="table")
@compute_options
@handle_errors
def check(config_path: str | None, start: str | None, end: str | None, as_of: str | None, fmt: str,
          webhook: str | None, **limits: float | int | bool | None) -> None:
    """Monitoring for cron and CI: exit 0 when every threshold holds, 1 on any breach, 3 when the webhook
    could not be delivered."""
    from dataclasses import replace

    from evidence_app.assess.check import evaluate_check
    from evidence_app.assess.webhook import post_json

    at = parse_instant(as_of, "--as-of")
    period = parse_period(start, end)
    config = load(config_path)
    url = _webhook_url(webhook, config)  # a bad URL fails before any data is read
    summary = run_figures(config, period, [], summary_at=at).summary
    thresholds = replace(config.check, **{k: v for k, v in limits.items() if v is not None})
    result = evaluate_check(summary, thresholds, period, at)
    if fmt == "json":
        click.echo(to_json(result.as_json()), nl=False)
    else:
        click.echo(_check_table(result), nl=False)
    if url is not None:
        post_json(url, {**result.as_json(), "text": result.text(config.organisation)}, thresholds.webhook_timeout_seconds)
    sys.exit(0 if result.ok else 1)


def _webhook_url(option: str | None, config: Config) -> str | None:
    """``--webhook``, else ``[check] webhook``, else none; checked (http/https with a host) either way."""
    from evidence_app.assess.webhook import checked_url

    if option:
        return checked_url(option)
    return checked_url(config.check.webhook, "check.webhook") if config.check.webhook else None


def _check_table(result) -> str:  # noqa: ANN001 - a CheckResult
    broken = {b.rule: b for b in result.breaches}
    rows = [{"figure": k, "value": percent(v) if k.startswith("coverage_") and v is not None else v}
            for k, v in result.figures.items()]
    rows += [{"figure": f"BREACH {b.rule}", "value": f"{b.value} (limit {b.limit})"} for b in broken.values()]
    rows += [{"figure": f"NOT APPLICABLE {n.rule}", "value": n.reason} for n in result.not_applicable]
    return to_table(pd.DataFrame(rows, dtype=object)) + ("ok\n" if result.ok else f"{len(broken)} breach(es)\n")


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
@click.option("--lta", is_flag=True, help="PAdES B-LTA (needs --tsa): embed validation data for the signer's and the "
                                          "timestamp authority's chains and add a document timestamp.")
@click.option("--trust", "anchors", multiple=True, type=click.Path(path_type=Path),
              help="With --lta: root certificate(s) the signer's and the TSA's chains lead to. Repeatable.")
@click.option("--validation-data", "validation_files", multiple=True, type=click.Path(path_type=Path),
              help="With --lta: certificates, CRLs or OCSP responses (PEM/DER) to embed besides those fetched from "
                   "the certificates' own CRL and OCSP URLs. Repeatable.")
@click.option("--previous", type=click.Path(path_type=Path), help="Previous pack: its SHA-256 chains this one to it.")
@click.option("--scope", "scope", multiple=True, help="Filter KEY=VALUE (tenant, operator, route, action); repeatable.")
@click.option("--generated-at", "generated_at", help="Generation time, ISO-8601 (for reproducible output).")
@click.option("--sample-seed", type=click.IntRange(0, 2**63 - 1), help="Seed of the re-performance sample (default: derived from the data).")
@compute_options
@handle_errors
def pack(config_path, start, end, out, key, cert, chain, pkcs12, passphrase_file, passphrase_env, tsa, lta, anchors,
         validation_files, previous, scope, generated_at, sample_seed) -> None:  # noqa: ANN001
    """Build a signed PDF evidence pack with the full population attached."""
    from evidence_app.evidence.build import build_pack, preflight
    from evidence_app.evidence.sign import SigningOptions
    from evidence_app.evidence.trust import colon_hex

    period = parse_period(start, end)
    at = parse_instant(generated_at, "--generated-at")
    signing = SigningOptions(key=key, cert=cert, chain=chain, pkcs12=pkcs12, passphrase_file=passphrase_file,
                             passphrase_env=passphrase_env, tsa_url=tsa, lta=lta,
                             validation_files=tuple(validation_files), anchors=tuple(anchors))
    config = load(config_path)
    scope_ = parse_scope(scope)
    ready = preflight(signing, out, previous, at)
    stages = ["reconciling", "writing extracts", "laying out the PDF", "signing", "done"] + \
        (["archival timestamp"] if lta else [])
    with click.progressbar(length=len(stages), label="building pack", file=sys.stderr) as bar:
        built = build_pack(config, period, scope_, signing, at, out=out, previous=previous,
                           sample_seed=sample_seed, step=lambda _s: bar.update(1), ready=ready)
    warn(built.contents.data, built.contents.recon)
    t = built.contents.summary.totals
    click.echo(f"{out}: pack {built.manifest['pack_id']}, {len(built.data) / 1024:,.0f} KiB, "
               f"{t.expected:,} operations, coverage after replay {percent(t.coverage_after_replay)}")
    click.echo(f"signer certificate SHA-256 fingerprint: {colon_hex(built.signer_fingerprint)}")
    if lta:
        from evidence_app.evidence.lta import latest_timestamp_expiry

        until = latest_timestamp_expiry(built.data)
        click.echo(f"PAdES B-LTA: verifiable until {until:%Y-%m-%dT%H:%M:%SZ} (the document timestamp's certificate "
                   "expires then); renew before with evidence-app renew")


@main.command()
@click.argument("pdf_file", type=click.Path(path_type=Path))
@click.option("--trust", "trust_files", multiple=True, type=click.Path(path_type=Path),
              help="Certificate(s) to trust, PEM or DER: a CA the signer must chain to, or the signer's own "
                   "certificate; a PEM bundle of several is fine. Repeatable.")
@click.option("--signer-fingerprint", "fingerprints", multiple=True,
              help="Trust the signer certificate with this SHA-256 fingerprint (hex of its DER; colons and case "
                   "do not matter). Repeatable.")
@click.option("--previous", type=click.Path(path_type=Path), help="The pack this one claims to follow.")
@click.option("--at", "at", metavar="TIME", help="Make the long-term validation of a B-LTA pack as of this ISO-8601 "
                                                 "time instead of now (will it still verify then?).")
@format_option("text", "json", default="text")
@handle_errors
def verify(pdf_file: Path, trust_files: tuple[Path, ...], fingerprints: tuple[str, ...],
           previous: Path | None, at: str | None, fmt: str) -> None:
    """Check a pack: one signature, in the pack's field, over the entire file (or, B-LTA, followed only by
    validation data and document timestamps), by a trusted signer; every attachment against the manifest; the
    chain. Exit 0 only when genuine and trusted."""
    from evidence_app.evidence.trust import trust_from_files, trust_from_fingerprints
    from evidence_app.evidence.verify import verification_json, verify_pack

    trust = trust_from_fingerprints(fingerprints) + trust_from_files(trust_files)
    try:
        data = pdf_file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {pdf_file}: {exc.strerror or exc}") from exc
    try:
        result = verify_pack(data, trust, previous, parse_instant(at, "--at") if at else None)
    except EvidenceError as exc:
        raise type(exc)(f"{pdf_file}: {exc}") from exc
    if fmt == "json":
        click.echo(to_json(verification_json(result)), nl=False)
        sys.exit(0 if result.ok else 1)
    for check in result.checks:
        mark = {True: "OK  ", False: "FAIL", None: "INFO"}[check.ok]
        click.echo(f"{mark}  {check.name}: {check.detail}")
    click.echo(result.verdict)
    sys.exit(0 if result.ok else 1)


@main.command()
@config_option
@click.option("--start", required=True, help="First day of the period, YYYY-MM-DD (UTC, inclusive).")
@click.option("--end", required=True, help="Last day of the period, YYYY-MM-DD (UTC, inclusive).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="OSCAL Assessment Results (JSON) to write.")
@click.option("--pack", "pack_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The signed pack of the same period, scope and configuration: verified, then named (id, SHA-256) "
                   "as the evidence.")
@click.option("--poam", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write an OSCAL Plan of Action and Milestones (JSON): routes not swept, controls not met.")
@click.option("--scope", "scope", multiple=True, help="Filter KEY=VALUE (tenant, operator, route, action); repeatable.")
@click.option("--as-of", "as_of", help="Judge at this ISO-8601 time (default: the pack's generation time; without "
                                       "--pack, the last instant of the period, or now while it runs).")
@click.option("--trust", "trust_files", multiple=True, type=click.Path(path_type=Path),
              help="With --pack: certificate(s) to trust, as verify takes them. Repeatable.")
@click.option("--signer-fingerprint", "fingerprints", multiple=True,
              help="With --pack: trust the signer certificate with this SHA-256 fingerprint. Repeatable.")
@compute_options
@handle_errors
def oscal(config_path: str | None, start: str, end: str, out: Path, pack_file: Path | None, poam: Path | None,
          scope: tuple[str, ...], as_of: str | None, trust_files: tuple[Path, ...],
          fingerprints: tuple[str, ...]) -> None:
    """OSCAL Assessment Results for the period (a finding per control, an observation per figure), optionally a
    POA&M; with --pack, only for a pack that verifies, and only with its figures."""
    from evidence_app.evidence import oscal as oscal_docs
    from evidence_app.evidence.build import check_writable, write_atomically
    from evidence_app.evidence.contents import gather

    period = parse_period(start, end)
    config, scope_ = load(config_path), parse_scope(scope)
    for path in (out, poam):
        if path is not None:
            check_writable(path)
    pack, at, pdf, signer = (_verified_pack(pack_file, trust_files, fingerprints) if pack_file
                             else (None, None, b"", ""))
    at = _oscal_as_of(as_of, at, period)
    contents = gather(config, period, scope_, at, sample_seed=(pack or {}).get("sample", {}).get("seed"))
    warn(contents.data, contents.recon)
    ref = None
    if pack_file is not None:
        why = oscal_docs.pack_mismatch(pack, contents)
        if why:
            raise UsageError(f"--pack {pack_file}: pack {pack['pack_id']} does not match this run: {why}")
        ref = oscal_docs.pack_ref(pdf, pack, pack_file, signer)  # the bytes verified, read once
    assessment = oscal_docs.assessment_of(contents, ref)
    write_atomically(out, oscal_docs.dumps(oscal_docs.assessment_results(assessment)))
    click.echo(f"{out}: OSCAL {oscal_docs.OSCAL_VERSION} assessment results, {len(contents.controls)} findings"
               + (f", evidence pack {ref.pack_id} (SHA-256 {ref.sha256})" if ref else ""))
    if poam is not None:
        plan = oscal_docs.plan_of_action(assessment)
        if plan is None:
            stale = " (the file there now is an earlier plan, left as it was)" if poam.exists() else ""
            click.echo(f"{poam}: not written: no route is not swept and no control is not met{stale}", err=True)
        else:
            write_atomically(poam, oscal_docs.dumps(plan))
            click.echo(f"{poam}: OSCAL plan of action and milestones, "
                       f"{len(plan['plan-of-action-and-milestones']['poam-items'])} items")


def _verified_pack(path: Path, trust_files: tuple[Path, ...],
                   fingerprints: tuple[str, ...]) -> tuple[dict, datetime, bytes, str]:
    """The manifest, generation time, bytes and signer line of a pack that passes ``verify``: intact and, when a
    trust anchor or fingerprint is given, trusted; else exit 1. Without any, an intact pack is taken and said so:
    its figures are vouched for by the run itself (every signed extract rebuilt to the same SHA-256), not by
    whoever signed it."""
    from evidence_app.errors import VerificationError
    from evidence_app.evidence.trust import trust_from_files, trust_from_fingerprints
    from evidence_app.evidence.verify import TRUST, verify_pack

    trust = trust_from_fingerprints(fingerprints) + trust_from_files(trust_files)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--pack: cannot read {path}: {exc.strerror or exc}") from exc
    try:
        result = verify_pack(data, trust)
    except EvidenceError as exc:
        raise type(exc)(f"--pack {path}: {exc}") from exc
    anchored = bool(trust_files or fingerprints)
    if not (result.ok if anchored else result.intact):
        raise VerificationError(f"--pack {path}: not vouched for, {result.verdict}")
    signer = (f"{result.signer.subject}, trusted ({'; '.join(c.detail for c in result.checks if c.name == TRUST)})"
              if anchored else f"{result.signer.subject}, not checked against any trust anchor (no --trust or "
                               "--signer-fingerprint given)")
    if not anchored:
        click.echo(f"note: --pack {path}: intact; its signer ({result.signer.subject}) was not checked against a "
                   "trust anchor — give --trust or --signer-fingerprint to require one", err=True)
    return result.manifest, parse_instant(result.manifest["generated_at"], "the pack's generated_at"), data, signer


def _oscal_as_of(option: str | None, pack_time: datetime | None, period: Period) -> datetime:
    """``--as-of``, which must equal the pack's generation time when a pack is given; by default that time, or
    the last instant of the period (so the same inputs give the same bytes), or now while the period runs (an
    age is never measured at a moment still to come)."""
    if option is None:
        last = (period.end_ts - pd.Timedelta(microseconds=1)).to_pydatetime()
        return pack_time or min(last, datetime.now(timezone.utc))
    at = parse_instant(option, "--as-of")
    if pack_time is not None and at != pack_time:
        raise UsageError(f"--as-of {option}: the pack was generated at {pack_time.isoformat()}; its figures are "
                         "judged then")
    return at


@main.command()
@click.argument("pdf_file", type=click.Path(path_type=Path))
@click.option("--tsa", "tsa", required=True, help="RFC 3161 timestamp authority URL for the new document timestamp.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Renewed PDF to write (the input is left as it is).")
@click.option("--trust", "trust_files", multiple=True, type=click.Path(path_type=Path),
              help="Root certificate(s) of the CA and the timestamp authorities: the pack must verify against them "
                   "before it is renewed, and the new validation data is built to them. Repeatable.")
@click.option("--validation-data", "validation_files", multiple=True, type=click.Path(path_type=Path),
              help="Certificates, CRLs or OCSP responses (PEM/DER) to embed besides those fetched. Repeatable.")
@handle_errors
def renew(pdf_file: Path, tsa: str, out: Path, trust_files: tuple[Path, ...],
          validation_files: tuple[Path, ...]) -> None:
    """Extend a pack's verifiability (PAdES B-LTA): validation data for its latest timestamp and a fresh document
    timestamp, in new revisions after the pack's signature, which stays untouched. Run it before the latest
    timestamp certificate expires (`verify` prints when)."""
    import dataclasses

    from evidence_app.evidence import lta
    from evidence_app.evidence.build import check_writable, write_atomically
    from evidence_app.evidence.sign import timestamper
    from evidence_app.evidence.trust import trust_from_files
    from evidence_app.evidence.verify import verify_pack

    trust = trust_from_files(trust_files)
    inputs = lta.inputs_from_files(validation_files)
    inputs = dataclasses.replace(inputs, anchors=inputs.anchors + trust.certificates)
    try:
        data = pdf_file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {pdf_file}: {exc.strerror or exc}") from exc
    check_writable(out)
    stamper = timestamper(tsa)
    try:
        renewed = lta.renew(data, stamper, inputs, trust)
    except EvidenceError as exc:
        raise type(exc)(f"{pdf_file}: {exc}") from exc
    result = verify_pack(renewed, trust)
    if not (result.ok if trust.certificates else result.intact):  # never hand over a renewal verify would reject
        from evidence_app.errors import VerificationError

        raise VerificationError(f"{pdf_file}: the renewed pack would not verify, so nothing was written: "
                                f"{result.verdict}")
    write_atomically(out, renewed)
    click.echo(f"{out}: renewed, {len(renewed) - len(data):,} bytes of validation data and document timestamp "
               f"added; PAdES {result.level}, verifiable until {result.verifiable_until:%Y-%m-%dT%H:%M:%SZ}")


@main.group("access-log")
def access_log() -> None:
    """The web app's own hash-chained access log (who signed in, viewed, filtered, downloaded, built)."""


def _access_log(config_path: str | None):  # noqa: ANN202
    from evidence_app.access import AccessLog

    config = load_config(config_path)
    if config.access is None:
        raise ConfigError(f"{config.path}: no [access] section, so the web app keeps no access log")
    return AccessLog(config.access.log)


@access_log.command("verify")
@config_option
@click.option("--expect-head", metavar="SHA256",
              help="A head hash recorded elsewhere earlier (as verify printed it): the chain must still hold it.")
@handle_errors
def access_log_verify(config_path: str | None, expect_head: str | None) -> None:
    """Check the chain: exit 0 when intact, 1 naming the first entry changed, removed or inserted."""
    from evidence_app.evidence.trust import parse_fingerprint

    anchor = parse_fingerprint(expect_head, "--expect-head") if expect_head is not None else None
    verdict = _access_log(config_path).verify(expect_head=anchor)
    if not verdict.ok:
        where = f" at entry {verdict.broken_seq}" if verdict.broken_seq is not None else ""
        click.echo(f"FAIL  access log broken{where}: {verdict.reason}")
        sys.exit(1)
    click.echo(f"OK    access log intact: {verdict.entries} entries; head entry {verdict.head_seq}, "
               f"SHA-256 {verdict.head_hash}")


@access_log.command("export")
@config_option
@start_option
@end_option
@format_option("json", "csv", default="json")
@handle_errors
def access_log_export(config_path: str | None, start: str | None, end: str | None, fmt: str) -> None:
    """Print the access log's entries (of the given days, by their UTC time), oldest first."""
    from evidence_app.access.export import entries_csv, entries_json

    period = parse_period(start, end)
    entries = _access_log(config_path).entries(period.start, period.end)
    click.echo(entries_json(entries) if fmt == "json" else entries_csv(entries), nl=False)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="evidence-app trial signer", show_default=True, help="Common name of the identity.")
@click.option("--passphrase-file", type=click.Path(path_type=Path), help="Encrypt the key with the passphrase in this file.")
@click.option("--passphrase-env", default=PASSPHRASE_ENV, show_default=True,
              help="…or with the passphrase in this environment variable (if set).")
@click.option("--force", is_flag=True,
              help="Replace an identity already in FOLDER; its files are kept beside the new ones, renamed.")
@click.option("--valid-from", metavar="TIME",
              help="Start of the certificate's validity, ISO-8601 (default: now): to sign packs whose --generated-at "
                   "lies in the past.")
@handle_errors
def keygen(folder: Path, name: str, passphrase_file: Path | None, passphrase_env: str, force: bool,
           valid_from: str | None) -> None:
    """Make a self-signed signing identity for trials (key.pem, cert.pem); never overwrites one without --force."""
    from evidence_app.evidence.sign import SigningOptions, read_passphrase
    from evidence_app.evidence.sign import keygen as make_identity
    from evidence_app.evidence.trust import certificates_in, colon_hex, sha256_fingerprint

    passphrase = read_passphrase(SigningOptions(passphrase_file=passphrase_file, passphrase_env=passphrase_env))
    try:
        key, cert = make_identity(folder, name, passphrase, force=force,
                                  valid_from=parse_instant(valid_from, "--valid-from") if valid_from else None)
    except OSError as exc:
        raise UsageError(f"cannot write the identity into {folder}: {exc.strerror or exc}") from exc
    fingerprint = sha256_fingerprint(certificates_in(cert.read_bytes(), str(cert))[0])
    click.echo(f"wrote {key} ({'encrypted' if passphrase else 'unencrypted'}) and {cert} — self-signed, for trials")
    click.echo(f"signer certificate SHA-256 fingerprint: {colon_hex(fingerprint)}")
    click.echo(f"verify packs signed with it: evidence-app verify PACK.pdf --signer-fingerprint {fingerprint}")


__all__ = ["main"]
