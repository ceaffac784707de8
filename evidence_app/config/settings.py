"""evidence.toml → frozen, typed configuration; validation only, no I/O beyond reading the file."""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from evidence_app.config.compute import COMPUTE_KEYS, MAX_PARTITIONS, ComputeConfig, parse_compute
from evidence_app.config.monitoring import (
    CHECK_KEYS,
    REMEDIATION_KEYS,
    CheckConfig,
    RemediationConfig,
    parse_check,
    parse_remediation,
)
from evidence_app.errors import ConfigError
from evidence_app.formatting import shown
from evidence_app.masking import mask_text, mask_url, userinfo_quoted
from evidence_app.reconcile.rules import (
    DEFAULT_MAX_REPLAY_ATTEMPTS,
    DEFAULT_TOLERANCE_SECONDS,
    DEFAULT_TRACE_MODE,
    TRACE_MODES,
    TraceMode,
)
from evidence_app.resources import sample_config

#: Canonical columns of each store: (required, optional).
OPERATION_COLUMNS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("id", "occurred_at", "operation", "restaurant_id", "user_id", "target"),
    ("route", "request_id", "audit_logged"),
)
AUDIT_COLUMNS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("id", "created_at", "action", "restaurant_id", "user_id", "target"),
    ("route", "request_id", "origin", "inserted_at"),
)
SUPPORTED_DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")
ROLES = ("auditor", "engineer", "admin")
DEFAULT_ACCESS_LOG = "access-log.db"
MAX_TOLERANCE_SECONDS = 7 * 86_400
"""A week: a clock disagreement beyond that is no longer the same operation (and dates stay in range)."""
MAX_REPLAY_ATTEMPTS = 1_000_000
DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024
"""A Worker invocation's Logpush line is far smaller; longer lines are skipped and counted."""
DEFAULT_MAX_FILE_BYTES = 1024 * 1024 * 1024
"""Decompressed bytes read per log file (Logpush's largest batch is 1 GB uncompressed); the rest is
skipped and counted, so a gzip bomb cannot keep the reader busy."""


@dataclass(frozen=True)
class StoreConfig:
    """Where one store lives and how its names map onto the canonical schema."""

    key: str
    """Config section name (``audit`` or ``operations``), used in messages."""
    table: str
    columns: Mapping[str, str]
    """canonical name → the store's column name, for every canonical column."""
    optional: frozenset[str]
    """canonical names that may be absent from the store."""
    url: URL | None = None
    """SQLAlchemy URL, relative SQLite paths already resolved; None when ``d1_dump`` is used."""
    d1_dump: Path | None = None
    """A ``wrangler d1 export`` SQL file, read into a private in-memory SQLite."""
    stores: tuple["StoreConfig", ...] = ()
    """``[[<key>.stores]]``: the stores whose union this store is (one database per tenant, say); empty: the one
    store ``url`` or ``d1_dump`` names."""
    tenants: tuple[str, ...] = ()
    """In a list of stores: the tenants this one holds (without a tenant column, its rows take the one named)."""
    entry: int | None = None
    """In a list of stores: its position (0-based), as messages name it: ``audit.stores[2]``."""

    @property
    def leaves(self) -> tuple["StoreConfig", ...]:
        """The stores really opened: this one, or each of its list."""
        return self.stores or (self,)

    @property
    def where(self) -> str:
        """How messages name this store: ``audit``, or ``audit.stores[2]`` for an entry of a list."""
        return self.key if self.entry is None else f"{self.key}.stores[{self.entry}]"

    @property
    def display_url(self) -> str:
        """The location with any password masked: safe for screens, logs and PDFs (a list: each store with its
        tenants)."""
        if self.stores:
            return "; ".join(f"{', '.join(s.tenants)}: {s.display_url}" for s in self.stores)
        if self.d1_dump is not None:
            return f"d1-dump:{self.d1_dump}"
        assert self.url is not None
        return mask_url(self.url)


@dataclass(frozen=True)
class MatchingConfig:
    """Reconciliation parameters."""

    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    max_replay_attempts: int = DEFAULT_MAX_REPLAY_ATTEMPTS
    actions: Mapping[str, str] = field(default_factory=dict)
    """operation → audit action, only where they differ from the 1:1 default."""

    def action_for(self, operation: str) -> str:
        """The audit action expected for an operation name."""
        return self.actions.get(operation, operation)


@dataclass(frozen=True)
class S3Config:
    """``[worker_logs.s3]``: how ``s3://bucket/key-glob`` paths are reached (Amazon S3, Cloudflare R2 or any S3 API)."""

    endpoint_url: str | None = None
    """The S3 API endpoint (R2: ``https://<account>.r2.cloudflarestorage.com``); None: Amazon S3 itself."""
    region: str | None = None
    """The region to sign requests for (R2: ``auto``); None: the SDK's default."""
    access_key_id_env: str = "AWS_ACCESS_KEY_ID"
    """NAME of the environment variable holding the access key id (never the key itself)."""
    secret_access_key_env: str = "AWS_SECRET_ACCESS_KEY"
    """NAME of the environment variable holding the secret access key."""
    session_token_env: str | None = None
    """NAME of the environment variable holding a session token (temporary credentials); None: none."""


@dataclass(frozen=True)
class WorkerLogsConfig:
    """How the Worker logs are read (``[worker_logs]`` besides ``paths``)."""

    optional: bool = False
    """True: a glob that matches nothing or an unreadable log file/folder is a warning, not an error."""
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    """Longer lines are skipped (counted in skipped_log_lines, file and line named)."""
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    """Decompressed bytes read per file; the rest of a longer file is skipped (the file is named)."""
    failure_event: str = "audit_log_insert_failed"
    """The ``event`` name of a failed audit INSERT in the Worker's log messages."""
    replay_event: str = "audit_log_replay"
    """The ``event`` name of the replay cron's attempts."""
    traces: str = DEFAULT_TRACE_MODE
    """``all``: the log job ships every invocation, unfiltered, so a missing operation no complete invocation traces
    is unprovable, not silent; ``failures`` (default): a filtered job, which proves nothing about silence."""
    s3: S3Config = field(default_factory=S3Config)
    """Where ``s3://`` paths are listed and read (``[worker_logs.s3]``)."""


@dataclass(frozen=True)
class CacheConfig:
    """``[cache]``: where the web app keeps its snapshot of what it read (the CLI and packs never use it)."""

    enabled: bool = True
    """False: the web app reads the stores at every (re)start, and keeps nothing on disk."""
    folder: Path | None = None
    """The snapshot folder (it holds the whole audit trail of the periods viewed: created 0700, files 0600);
    None: ``$XDG_CACHE_HOME/evidence-app`` (default ``~/.cache/evidence-app``), resolved when used."""


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def mailbox(email: str) -> str:
    """An email address as grants compare it: ASCII letters lower-cased, nothing else touched. Unicode case
    folding would make ``\u212aelly@…`` (Kelvin sign) or ``strauß@…`` someone else's ``kelly@…``/``strauss@…``."""
    return email.translate(_ASCII_LOWER)


@dataclass(frozen=True)
class Grant:
    """One ``[[access.grant]]``: who (email, sub or an IdP group), which role, and optionally which tenants and days."""

    role: str
    """``auditor`` | ``engineer`` | ``admin``."""
    email: str | None = None
    """Matched against the ID token's ``email`` only when ``email_verified`` is JSON ``true``: the same mailbox,
    ASCII letters without case (:func:`mailbox`)."""
    sub: str | None = None
    """Matched exactly against the ID token's ``sub``."""
    group: str | None = None
    """Matched exactly against one of the values of the claim ``[access] groups_claim`` names."""
    tenants: tuple[str, ...] = ()
    """Only these tenants (empty: all)."""
    period: tuple[date, date] | None = None
    """Only these inclusive UTC days (None: all)."""
    index: int = 0
    """Position in the config (``access.grant[index]``), for messages."""

    @property
    def who(self) -> str:
        if self.group is not None:
            return f"group {self.group}"
        return f"email {self.email}" if self.email is not None else f"sub {self.sub}"


@dataclass(frozen=True)
class AccessConfig:
    """``[access]``: OpenID Connect sign-in, the grants, and where the app's own access log lives."""

    oidc_metadata_url: str
    """The IdP's ``/.well-known/openid-configuration``."""
    client_id: str
    client_secret_env: str
    """Name of the environment variable holding the OIDC client secret (never the secret itself)."""
    cookie_secret_env: str
    """Name of the environment variable holding the secret that signs the session cookie."""
    log: Path
    """The access log (SQLite), resolved against the config's folder."""
    grants: tuple[Grant, ...] = ()
    redirect_uri: str | None = None
    """None: ``http://<address>:<port>/oauth2callback`` of the running server (a loopback or host-name address)."""
    prompt: str | None = None
    """The authorisation request's ``prompt`` (``login``, ``consent``, ``select_account``); None: none sent."""
    authorize_params: tuple[tuple[str, str], ...] = ()
    """Further authorisation-request parameters a provider needs (e.g. Entra's ``domain_hint``)."""
    groups_claim: str = "groups"
    """The claim holding the user's groups (a list, or one space-separated string) for ``group`` grants."""
    token_endpoint_auth_method: str = "client_secret_basic"
    """How the app authenticates at the token endpoint (one of TOKEN_AUTH_METHODS)."""
    private_key_file_env: str | None = None
    """``private_key_jwt``: NAME of the environment variable holding the path of the PEM private key file."""


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    path: Path
    organisation: str
    audit: StoreConfig
    operations: StoreConfig
    log_paths: tuple[str, ...]
    """Absolute glob patterns for Logpush files."""
    matching: MatchingConfig
    controls: Mapping[str, Any] = field(default_factory=dict)
    """Overrides of the control checks' thresholds (``[controls]``, read by ``config.thresholds.parse_controls``)."""
    remediation: RemediationConfig = field(default_factory=RemediationConfig)
    """Fix deployment times and the replay SLA (``[remediation]``)."""
    check: CheckConfig = field(default_factory=CheckConfig)
    """Thresholds and webhook of ``evidence-app check`` (``[check]``)."""
    access: AccessConfig | None = None
    """Sign-in, roles and the access log (``[access]``); None: no sign-in, loopback only."""
    worker_logs: WorkerLogsConfig = field(default_factory=WorkerLogsConfig)
    """Whether logs are optional, and the reader's caps."""
    cache: CacheConfig = field(default_factory=CacheConfig)
    """The web app's snapshot of what it read (``[cache]``)."""
    compute: ComputeConfig = field(default_factory=ComputeConfig)
    """Exact partitions of the reconciliation and the Dask scheduler running them (``[compute]``)."""

    @property
    def base_dir(self) -> Path:
        return self.path.parent


STORE_LIST_KEYS = frozenset({"tenant", "tenants", "url", "d1_dump"})
"""The keys of one ``[[audit.stores]]`` / ``[[operations.stores]]`` entry."""
KEYS: dict[str, frozenset[str]] = {
    "": frozenset({"organisation", "audit", "operations", "worker_logs", "matching", "controls", "remediation",
                   "check", "access", "cache", "compute"}),
    "organisation": frozenset({"name"}),
    "audit": frozenset({"url", "d1_dump", "stores", "table", "columns"}),
    "operations": frozenset({"url", "d1_dump", "stores", "table", "columns"}),
    "audit.stores": STORE_LIST_KEYS,
    "operations.stores": STORE_LIST_KEYS,
    "worker_logs": frozenset({"paths", "optional", "max_line_bytes", "max_file_bytes", "failure_event",
                              "replay_event", "traces", "s3"}),
    "worker_logs.s3": frozenset({"endpoint_url", "region", "access_key_id_env", "secret_access_key_env",
                                 "session_token_env"}),
    "matching": frozenset({"tolerance_seconds", "max_replay_attempts", "actions"}),
    "remediation": REMEDIATION_KEYS,
    "check": CHECK_KEYS,
    "access": frozenset({"oidc_metadata_url", "client_id", "client_secret_env", "cookie_secret_env", "redirect_uri",
                         "log", "grant", "prompt", "authorize_params", "groups_claim", "token_endpoint_auth_method",
                         "private_key_file_env"}),
    "access.grant": frozenset({"email", "sub", "group", "role", "tenants", "period"}),
    "cache": frozenset({"enabled", "folder"}),
    "compute": COMPUTE_KEYS,
}
"""Every section of evidence.toml and the keys it accepts (``[controls]`` keys are checked by
``config.thresholds.parse_controls``; ``*.columns`` and ``matching.actions`` map names). Anything else is refused, naming the key."""


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate ``evidence.toml``; ``None`` means the bundled sample scenario."""
    cfg_path = Path(path) if path is not None else sample_config()
    raw = _read_toml(cfg_path)
    return parse_config(raw, cfg_path.resolve())


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file unreadable: {path}: {exc}") from exc
    try:
        return tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer too long for int()
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def parse_config(raw: Mapping[str, Any], path: Path) -> Config:
    """Validate a parsed TOML document; every fault names its key."""
    _reject_unknown(raw, "")
    org = _section(raw, "organisation", required=False)
    _reject_unknown(org, "organisation")
    name = org.get("name", "")
    if not isinstance(name, str):
        raise ConfigError("organisation.name: must be a string")
    base = path.parent
    audit = _store(raw, "audit", AUDIT_COLUMNS, "staff_audit_logs", base)
    operations = _store(raw, "operations", OPERATION_COLUMNS, "operations", base)
    return Config(
        path=path,
        organisation=name,
        audit=audit,
        operations=operations,
        log_paths=_log_paths(raw, base),
        matching=_matching(raw),
        controls=_section(raw, "controls", required=False),
        remediation=parse_remediation(_section(raw, "remediation", required=False)),
        check=parse_check(_section(raw, "check", required=False)),
        access=_access(raw, base),
        worker_logs=_worker_logs(raw),
        cache=_cache(raw, base),
        compute=_compute(raw, audit, operations),
    )


def _compute(raw: Mapping[str, Any], audit: StoreConfig, operations: StoreConfig) -> ComputeConfig:
    """``[compute]``; with a list of stores and no ``partitions`` given, one partition per unit of the lists."""
    sec = _section(raw, "compute", required=False)
    compute = parse_compute(sec)
    if "partitions" in sec:
        return compute
    return replace(compute, partitions=min(max(1, store_units(audit, operations)), MAX_PARTITIONS))


def store_units(audit: StoreConfig, operations: StoreConfig) -> int:
    """How many partition units the lists of stores make: their entries, joined when they share a tenant (across
    the two lists); 0 when neither store is a list."""
    entries = [set(e.tenants) for s in (audit, operations) for e in s.stores]
    parent = list(range(len(entries)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    first: dict[str, int] = {}
    for i, tenants in enumerate(entries):
        for t in tenants:
            parent[root(i)] = root(first.setdefault(t, i))
    return len({root(i) for i in range(len(entries))})


def _section(raw: Mapping[str, Any], key: str, *, required: bool, prefix: str = "") -> dict:
    full = f"{prefix}{key}"
    value = raw.get(key)
    if value is None:
        if required:
            raise ConfigError(f"[{full}]: section missing")
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{full}: must be a table ([{full}])")
    return value


def _reject_unknown(section: Mapping[str, Any], where: str, kind: str | None = None) -> None:
    """Refuse keys ``KEYS[kind or where]`` does not list; ``where`` names the place in messages."""
    allowed = KEYS[kind or where]
    for key in section:
        if key not in allowed:
            name = f"{where}.{key}" if where else key
            raise ConfigError(f"{name}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _store(
    raw: Mapping[str, Any],
    key: str,
    columns: tuple[tuple[str, ...], tuple[str, ...]],
    default_table: str,
    base: Path,
) -> StoreConfig:
    sec = _section(raw, key, required=True)
    _reject_unknown(sec, key)
    url, dump = sec.get("url"), sec.get("d1_dump")
    if "stores" in sec and (url is not None or dump is not None):
        given = f"{key}.url" if url is not None else f"{key}.d1_dump"
        raise ConfigError(f"{key}.stores: give either {given} or {key}.stores (a list of stores), not both")
    if "stores" not in sec and (url is None) == (dump is None):
        raise ConfigError(f"[{key}]: give exactly one of {key}.url, {key}.d1_dump or {key}.stores")
    table = sec.get("table", default_table)
    if not _name_like(table):
        raise ConfigError(f"{key}.table: must be a non-empty name without control characters")
    required, optional = columns
    mapping = _column_map(sec, key, required + optional)
    store = StoreConfig(key=key, table=table, columns=mapping, optional=frozenset(optional))
    if "stores" in sec:
        return replace(store, stores=_store_list(sec["stores"], store, base))
    return replace(store, url=_url(url, f"{key}.url", base) if url is not None else None,
                   d1_dump=_readable_file(dump, f"{key}.d1_dump", base) if dump is not None else None)


def _store_list(entries: Any, section: StoreConfig, base: Path) -> tuple[StoreConfig, ...]:
    """``[[<key>.stores]]`` → one StoreConfig per entry (the section's table and columns, its own location and
    tenants); a tenant held by two entries, or one store listed twice, is refused naming both entries."""
    key = section.key
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{key}.stores: must be a list of tables ([[{key}.stores]] with tenant and url or d1_dump)")
    if not entries:
        raise ConfigError(f"{key}.stores: must list at least one store")
    out: list[StoreConfig] = []
    held: dict[str, str] = {}
    located: dict[str, str] = {}
    for i, entry in enumerate(entries):
        store = _store_entry(entry, replace(section, entry=i), base)
        for tenant in store.tenants:
            if tenant in held:
                raise ConfigError(f"{store.where}.tenant: tenant {shown(tenant)} is already held by {held[tenant]} "
                                  "(each tenant lives in one store)")
            held[tenant] = store.where
        location = str(store.d1_dump) if store.d1_dump is not None else str(store.url)
        if location in located:
            raise ConfigError(f"{store.where}: the same store as {located[location]} ({store.display_url})")
        located[location] = store.where
        out.append(store)
    return tuple(out)


def _store_entry(entry: Mapping[str, Any], store: StoreConfig, base: Path) -> StoreConfig:
    """One entry of a list of stores: exactly one of ``tenant``/``tenants``, exactly one of ``url``/``d1_dump``."""
    where = store.where
    _reject_unknown(entry, where, f"{store.key}.stores")
    if ("tenant" in entry) == ("tenants" in entry):
        raise ConfigError(f"{where}: give exactly one of {where}.tenant or {where}.tenants")
    if "tenant" in entry:
        tenants = [entry["tenant"]]
        name = f"{where}.tenant"
    else:
        tenants, name = entry["tenants"], f"{where}.tenants"
        if not isinstance(tenants, list) or not tenants:
            raise ConfigError(f"{name}: must be a non-empty list of tenant names")
    for t in tenants:
        if not isinstance(t, str) or not t.strip() or not t.isprintable() or t != t.strip():
            raise ConfigError(f"{name}: a tenant is a non-empty name without control characters or surrounding "
                              f"spaces, got {shown(t)}")
    if len(set(tenants)) != len(tenants):
        raise ConfigError(f"{name}: a tenant is named twice")
    url, dump = entry.get("url"), entry.get("d1_dump")
    if (url is None) == (dump is None):
        raise ConfigError(f"{where}: give exactly one of {where}.url or {where}.d1_dump")
    # The tenant column may be absent: a per-tenant database seldom has one (its rows take the entry's tenant).
    return replace(store, tenants=tuple(tenants), optional=store.optional | {"restaurant_id"},
                   url=_url(url, f"{where}.url", base) if url is not None else None,
                   d1_dump=_readable_file(dump, f"{where}.d1_dump", base) if dump is not None else None)


def _column_map(sec: Mapping[str, Any], key: str, canonical: tuple[str, ...]) -> dict[str, str]:
    given = _section(sec, "columns", required=False, prefix=f"{key}.")
    mapping = {name: name for name in canonical}
    for name, column in given.items():
        if name not in mapping:
            raise ConfigError(f"{key}.columns.{name}: unknown canonical column{_meant(name, mapping)} (accepted: "
                              f"{', '.join(canonical)}; write canonical = \"your column\")")
        if not _name_like(column):
            raise ConfigError(f"{key}.columns.{name}: must be a non-empty column name without control characters")
        mapping[name] = column
    return mapping


COLUMN_WORDS = {"tenant": "restaurant_id", "restaurant": "restaurant_id", "operator": "user_id", "user": "user_id",
                "staff": "user_id", "time": "occurred_at / created_at", "timestamp": "occurred_at / created_at"}
"""Words people map by, and the canonical column each means (named in the error)."""


def _meant(name: str, mapping: Mapping[str, str]) -> str:
    """" — the operator is user_id" when ``name`` is a word for a canonical column, else nothing."""
    meant = COLUMN_WORDS.get(name.strip().lower())
    if meant is None:
        return ""
    shown = " / ".join(m for m in meant.split(" / ") if m in mapping)
    return f" — the {name.strip().lower()} is {shown}" if shown else ""


def _name_like(value: Any) -> bool:
    """A table or column name: text, not blank, no control characters (a NUL cannot reach a database)."""
    return isinstance(value, str) and bool(value.strip()) and value.isprintable()


def _url(value: Any, key: str, base: Path) -> URL:
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ConfigError(f"{key}: must be a SQLAlchemy URL string")
    try:
        url = make_url(userinfo_quoted(value))
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise ConfigError(f"{key}: not a valid SQLAlchemy URL: {mask_text(value)!r}") from None  # cause: unmasked URL
    dialect = url.get_backend_name()
    if dialect not in SUPPORTED_DIALECTS:
        raise ConfigError(
            f"{key}: unsupported database {dialect!r} (supported: {', '.join(SUPPORTED_DIALECTS)})"
        )
    if dialect == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ConfigError(f"{key}: a SQLite URL must name a database file")
        db = _readable_file(url.database, key, base)
        url = url.set(database=str(db))
    return url


def _readable_file(value: Any, key: str, base: Path) -> Path:
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ConfigError(f"{key}: must be a file path")
    p = Path(value)
    if not p.is_absolute():
        p = base / p
    try:
        p = p.resolve()
        if not p.is_file():
            raise ConfigError(f"{key}: file not found: {p}")
        with p.open("rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"{key}: file unreadable: {shown(str(p))}: {exc.strerror}") from exc
    return p


def _log_paths(raw: Mapping[str, Any], base: Path) -> tuple[str, ...]:
    sec = _section(raw, "worker_logs", required=False)
    _reject_unknown(sec, "worker_logs")
    paths = sec.get("paths", [])
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) and p.strip() and "\0" not in p for p in paths):
        raise ConfigError("worker_logs.paths: must be a list of path/glob strings")
    for p in paths:
        bucket = p[len(S3_SCHEME):].partition("/")[0] if p.startswith(S3_SCHEME) else None
        if bucket is not None and not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,62}", bucket):
            raise ConfigError(f"worker_logs.paths: {shown(p)} must name a bucket: s3://bucket/key-glob "
                              "(no wildcard in the bucket name)")
    return tuple(p if p.startswith(S3_SCHEME) or Path(p).is_absolute() else str(base / p) for p in paths)


S3_SCHEME = "s3://"
"""A ``worker_logs.paths`` entry starting with this is an object-storage glob, never a path on disk."""


def _worker_logs(raw: Mapping[str, Any]) -> WorkerLogsConfig:
    sec = _section(raw, "worker_logs", required=False)
    optional = sec.get("optional", False)
    if not isinstance(optional, bool):
        raise ConfigError(f"worker_logs.optional: must be true or false, got {optional!r}")
    return WorkerLogsConfig(
        optional=optional,
        max_line_bytes=_int(sec, "worker_logs.max_line_bytes", DEFAULT_MAX_LINE_BYTES, minimum=1024,
                            maximum=1024**3),
        max_file_bytes=_int(sec, "worker_logs.max_file_bytes", DEFAULT_MAX_FILE_BYTES, minimum=1024,
                            maximum=1024**4),
        **_event_names(sec),
        traces=_trace_mode(sec),
        s3=_s3(sec),
    )


def _trace_mode(sec: Mapping[str, Any]) -> str:
    value = sec.get("traces", DEFAULT_TRACE_MODE)
    if value not in TRACE_MODES:
        raise ConfigError(f"worker_logs.traces: must be one of {', '.join(TRACE_MODES)}, got {value!r}")
    return TraceMode(value)


def _s3(logs: Mapping[str, Any]) -> S3Config:
    """``[worker_logs.s3]``: an http(s) endpoint without credentials in it, a region, and variable NAMES."""
    sec = _section(logs, "s3", required=False, prefix="worker_logs.")
    _reject_unknown(sec, "worker_logs.s3")
    endpoint = _text(sec, "endpoint_url", "worker_logs.s3", required=False)
    if endpoint is not None and not re.fullmatch(r"https?://[^\s/@?#]+(/[^\s@?#]*)?", endpoint):
        raise ConfigError(f"worker_logs.s3.endpoint_url: must be an http(s) URL without credentials, query or "
                          f"fragment, got {mask_text(endpoint)!r}")
    names = {key: _env_name(sec, key, "worker_logs.s3", required=False)
             for key in ("access_key_id_env", "secret_access_key_env", "session_token_env")}
    return S3Config(endpoint_url=endpoint, region=_text(sec, "region", "worker_logs.s3", required=False),
                    **{k: v for k, v in names.items() if v is not None})


def _event_names(sec: Mapping[str, Any]) -> dict[str, str]:
    """``failure_event`` and ``replay_event``: non-empty, and not the same name (an event is one or the other)."""
    names = {key: _text(sec, key, "worker_logs", required=False) or getattr(WorkerLogsConfig, key)
             for key in ("failure_event", "replay_event")}
    if names["failure_event"] == names["replay_event"]:
        raise ConfigError(f"worker_logs.replay_event: must differ from worker_logs.failure_event "
                          f"(both {names['failure_event']!r})")
    return names


def _cache(raw: Mapping[str, Any], base: Path) -> CacheConfig:
    """``[cache]``: a switch and a folder (relative: against the config's folder; ``~`` expanded)."""
    sec = _section(raw, "cache", required=False)
    _reject_unknown(sec, "cache")
    enabled = sec.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"cache.enabled: must be true or false, got {shown(enabled)}")
    folder = sec.get("folder")
    if folder is None:
        return CacheConfig(enabled=enabled)
    if not isinstance(folder, str) or not folder.strip() or "\0" in folder:
        raise ConfigError("cache.folder: must be a folder path (a non-empty string)")
    path = Path(folder.strip()).expanduser()
    return CacheConfig(enabled=enabled, folder=path if path.is_absolute() else (base / path))


def _matching(raw: Mapping[str, Any]) -> MatchingConfig:
    sec = _section(raw, "matching", required=False)
    _reject_unknown(sec, "matching")
    tol = _int(sec, "matching.tolerance_seconds", DEFAULT_TOLERANCE_SECONDS, minimum=0,
               maximum=MAX_TOLERANCE_SECONDS)
    attempts = _int(sec, "matching.max_replay_attempts", DEFAULT_MAX_REPLAY_ATTEMPTS, minimum=1,
                    maximum=MAX_REPLAY_ATTEMPTS)
    actions = _section(sec, "actions", required=False, prefix="matching.")
    seen: dict[str, str] = {}
    for operation, action in actions.items():
        if not isinstance(action, str) or not action.strip():
            raise ConfigError(f"matching.actions.{operation}: must be an action name (string)")
        if action in seen:
            raise ConfigError(
                f"matching.actions.{operation}: action {action!r} is already mapped from "
                f"{seen[action]!r}; operation ↔ action mapping must be one-to-one"
            )
        seen[action] = operation
    return MatchingConfig(tolerance_seconds=tol, max_replay_attempts=attempts, actions=dict(actions))


def _int(sec: Mapping[str, Any], key: str, default: int, *, minimum: int, maximum: int) -> int:
    """A bounded whole number; ``key`` is the full dotted name (``matching.tolerance_seconds``)."""
    value = sec.get(key.rpartition(".")[2], default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ConfigError(f"{key}: must be a whole number from {minimum:,} to {maximum:,}, got {shown(value)}")
    return value


#: ``[access] token_endpoint_auth_method`` values (OpenID Connect Core §9).
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt")
#: ``[access] prompt`` values (space-separated combinations allowed; ``none`` would never show a sign-in page).
PROMPTS = ("login", "consent", "select_account")
#: Authorisation parameters the sign-in sets itself: ``authorize_params`` may not replace them.
RESERVED_AUTHORIZE_PARAMS = frozenset({"client_id", "response_type", "redirect_uri", "scope", "state", "nonce",
                                       "code_challenge", "code_challenge_method", "prompt", "request", "request_uri"})


def _access(raw: Mapping[str, Any], base: Path) -> AccessConfig | None:
    """``[access]`` and its ``[[access.grant]]`` list; absent means no sign-in."""
    if "access" not in raw:
        return None
    sec = _section(raw, "access", required=True)
    _reject_unknown(sec, "access")
    url = _text(sec, "oidc_metadata_url", "access", required=True)
    if not url.startswith(("https://", "http://")):
        raise ConfigError("access.oidc_metadata_url: must be an http(s) URL of the IdP's openid-configuration")
    redirect = _text(sec, "redirect_uri", "access", required=False)
    if redirect is not None and (not redirect.startswith(("https://", "http://"))
                                 or not redirect.split("?")[0].endswith("/oauth2callback")):
        raise ConfigError("access.redirect_uri: must be an http(s) URL ending in /oauth2callback")
    log = Path(_text(sec, "log", "access", required=False) or DEFAULT_ACCESS_LOG)
    method = _text(sec, "token_endpoint_auth_method", "access", required=False) or TOKEN_AUTH_METHODS[0]
    if method not in TOKEN_AUTH_METHODS:
        raise ConfigError(f"access.token_endpoint_auth_method: must be one of {', '.join(TOKEN_AUTH_METHODS)}, "
                          f"got {method!r}")
    keyed = method == "private_key_jwt"
    key_env = _env_name(sec, "private_key_file_env", required=keyed)
    if not keyed and key_env is not None:
        raise ConfigError("access.private_key_file_env: only used with token_endpoint_auth_method = "
                          "\"private_key_jwt\"")
    return AccessConfig(
        oidc_metadata_url=url,
        client_id=_text(sec, "client_id", "access", required=True),
        client_secret_env=_env_name(sec, "client_secret_env", required=not keyed) or "",
        cookie_secret_env=_env_name(sec, "cookie_secret_env"),
        log=(log if log.is_absolute() else base / log).resolve(),
        grants=_grants(sec.get("grant", [])),
        redirect_uri=redirect,
        prompt=_prompt(sec),
        authorize_params=_authorize_params(sec.get("authorize_params", {})),
        groups_claim=_text(sec, "groups_claim", "access", required=False) or "groups",
        token_endpoint_auth_method=method,
        private_key_file_env=key_env,
    )


def _prompt(sec: Mapping[str, Any]) -> str | None:
    """``prompt``: absent → none sent (Streamlit's own default, select_account, is refused by many providers)."""
    value = _text(sec, "prompt", "access", required=False)
    if value is None:
        return None
    words = value.split()
    if not all(w in PROMPTS for w in words) or len(set(words)) != len(words):
        raise ConfigError(f"access.prompt: must be one or more of {', '.join(PROMPTS)} (space-separated), "
                          f"got {value!r}")
    return " ".join(words)


def _authorize_params(value: Any) -> tuple[tuple[str, str], ...]:
    """``authorize_params``: a table of text values, none of which the sign-in sets itself."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError('access.authorize_params: must be a table of text values, e.g. { domain_hint = "x.com" }')
    taken = sorted(set(value) & RESERVED_AUTHORIZE_PARAMS)
    if taken:
        raise ConfigError(f"access.authorize_params: {', '.join(taken)} is set by the sign-in itself"
                          + (" (use access.prompt)" if "prompt" in taken else ""))
    return tuple(sorted(value.items()))


def _text(sec: Mapping[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = sec.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key}: must be a non-empty string")
    return value.strip()


def _env_name(sec: Mapping[str, Any], key: str, where: str = "access", required: bool = True) -> str | None:
    """The NAME of an environment variable (never its value); absent and not ``required``: None."""
    name = _text(sec, key, where, required=required)
    if name is None:
        return None
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ConfigError(f"{where}.{key}: must name an environment variable (letters, digits, _), got {name!r}")
    return name


def _grants(value: Any) -> tuple[Grant, ...]:
    if not isinstance(value, list) or not all(isinstance(g, dict) for g in value):
        raise ConfigError("access.grant: must be a list of [[access.grant]] tables")
    grants = tuple(_grant(g, i) for i, g in enumerate(value))
    seen: dict[tuple[str, str], int] = {}
    for g in grants:
        ident = (("email", mailbox(g.email)) if g.email is not None
                 else ("group", g.group) if g.group is not None else ("sub", g.sub or ""))
        if ident in seen:
            raise ConfigError(f"access.grant[{g.index}]: {g.who} already has a grant (access.grant[{seen[ident]}]); "
                              "one grant per person or group")
        seen[ident] = g.index
    return grants


def _grant(sec: Mapping[str, Any], i: int) -> Grant:
    where = f"access.grant[{i}]"
    _reject_unknown(sec, where, "access.grant")
    email, sub = _text(sec, "email", where, required=False), _text(sec, "sub", where, required=False)
    group = _text(sec, "group", where, required=False)
    if sum(v is not None for v in (email, sub, group)) != 1:
        raise ConfigError(f"{where}: give exactly one of email, sub or group")
    role = sec.get("role")
    if role not in ROLES:
        raise ConfigError(f"{where}.role: must be one of {', '.join(ROLES)}, got {role!r}")
    tenants = sec.get("tenants", [])
    if not isinstance(tenants, list) or not all(isinstance(t, str) and t.strip() for t in tenants):
        raise ConfigError(f"{where}.tenants: must be a list of tenant ids")
    if "tenants" in sec and not tenants:
        raise ConfigError(f"{where}.tenants: an empty list would grant nothing; leave the key out for all tenants")
    return Grant(role=role, email=email, sub=sub, group=group, tenants=tuple(dict.fromkeys(t.strip() for t in tenants)),
                 period=_grant_period(sec.get("period"), where), index=i)


def _grant_period(value: Any, where: str) -> tuple[date, date] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise ConfigError(f'{where}.period: must be ["YYYY-MM-DD", "YYYY-MM-DD"] (first and last day)')
    try:
        start, end = (v if isinstance(v, date) else date.fromisoformat(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f'{where}.period: must be ["YYYY-MM-DD", "YYYY-MM-DD"], got {value!r}') from exc
    if start > end:
        raise ConfigError(f"{where}.period: first day {start} is after last day {end}")
    return start, end


@dataclass(frozen=True)
class AccessSecrets:
    """The secrets ``serve`` hands to Streamlit, read from the environment at start; never stored in config."""

    client_secret: str
    """The client secret, or with ``private_key_jwt`` the PEM private key."""
    cookie_secret: str

    def __repr__(self) -> str:  # never print a secret by accident
        return "AccessSecrets(***)"


MIN_COOKIE_SECRET = 32


def access_secrets(access: AccessConfig, environ: Mapping[str, str] | None = None) -> AccessSecrets:
    """Read the OIDC client secret and the cookie secret from the variables the config names."""
    env = os.environ if environ is None else environ
    values = {}
    keyed = access.private_key_file_env is not None
    for key in ("private_key_file_env" if keyed else "client_secret_env", "cookie_secret_env"):
        name = getattr(access, key)
        value = env.get(name, "")
        if not value.strip():
            raise ConfigError(f"access.{key}: environment variable {name} is not set (or empty)")
        values[key] = value
    if len(values["cookie_secret_env"]) < MIN_COOKIE_SECRET:
        raise ConfigError(f"access.cookie_secret_env: ${access.cookie_secret_env} must hold at least "
                          f"{MIN_COOKIE_SECRET} characters (e.g. `openssl rand -hex 32`)")
    client = _private_key(values["private_key_file_env"], access) if keyed else values["client_secret_env"]
    return AccessSecrets(client, values["cookie_secret_env"])


def _private_jwk(text: str) -> bool:
    """Whether text is a private RSA or EC key as one JSON Web Key (RFC 7517: ``kty`` and the private ``d``)."""
    try:
        jwk = json.loads(text)
    except ValueError:
        return False
    return isinstance(jwk, dict) and jwk.get("kty") in ("RSA", "EC") and isinstance(jwk.get("d"), str)


def _private_key(path: str, access: AccessConfig) -> str:
    """``private_key_jwt``: the PEM private key the environment variable names the file of (read, never logged)."""
    where = f"access.private_key_file_env: ${access.private_key_file_env}"
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where} names {path}, which cannot be read: {getattr(exc, 'strerror', None) or exc}") \
            from exc
    if "PRIVATE KEY-----" not in text and not _private_jwk(text):
        raise ConfigError(f"{where} names {path}, which holds no PEM private key or private JWK")
    return text


@dataclass(frozen=True)
class S3Credentials:
    """The object-storage credentials, read from the variables ``[worker_logs.s3]`` names; never stored in config."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # never print a secret by accident
        return "S3Credentials(***)"


def s3_credentials(s3: S3Config, environ: Mapping[str, str] | None = None) -> S3Credentials:
    """Read the credentials from the variables the config names; a missing one names its key (exit 2)."""
    env = os.environ if environ is None else environ
    values: dict[str, str | None] = {}
    for key in ("access_key_id_env", "secret_access_key_env", "session_token_env"):
        name = getattr(s3, key)
        if name is None:
            continue
        value = env.get(name, "")
        if not value.strip():
            raise ConfigError(f"worker_logs.s3.{key}: environment variable {name} is not set (or empty); "
                              "it must hold the credential for the s3:// paths in worker_logs.paths")
        values[key.removesuffix("_env")] = value
    return S3Credentials(**values)
