"""The project's exception tree; the CLI and the UI turn these into one clear line.

    EvidenceError                 base; ``exit_code`` tells the CLI what to return
    ├── ConfigError       (2)     evidence.toml is missing, malformed or names the wrong thing
    ├── SourceError       (2)     a source cannot be opened or lacks a table/column
    ├── UsageError        (2)     a command-line value is unusable (dates, dimensions)
    ├── DataError         (1)     the data itself cannot be evaluated
    ├── VerificationError (1)     an evidence pack failed a check
    ├── DeliveryError     (3)     a result could not be delivered (the check's webhook)
    ├── ComputeError      (2)     the Dask cluster ([compute] scheduler) cannot run the partitions
    ├── AccessLogError    (1)     the web app's access log is missing, unreadable or its chain is broken
    └── AccessDenied      (1)     a signed-in user asked for something their grant does not cover
"""

from __future__ import annotations


class EvidenceError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code: int = 1


class ConfigError(EvidenceError):
    """The configuration is wrong; the message names the key or file at fault."""

    exit_code = 2


class SourceError(EvidenceError):
    """A source cannot be reached or does not have the table/columns the config names."""

    exit_code = 2


class UsageError(EvidenceError):
    """A command-line argument is unusable."""

    exit_code = 2


class DataError(EvidenceError):
    """The data cannot be evaluated (e.g. no usable rows where some are required)."""

    exit_code = 1


class VerificationError(EvidenceError):
    """An evidence pack failed verification."""

    exit_code = 1


class DeliveryError(EvidenceError):
    """A result was computed but could not be delivered (``check --webhook``: unreachable, or not a 2xx)."""

    exit_code = 3
class ComputeError(EvidenceError):
    """The Dask cluster ``[compute] scheduler`` names cannot run the partitions (unreachable, no worker, a worker
    lost, another evidence-app on a worker): nothing was computed, so no number is shown."""

    exit_code = 2


class AccessLogError(EvidenceError):
    """The access log cannot be read or written; the message names the file (or the entry at fault)."""

    exit_code = 1


class AccessDenied(EvidenceError):
    """A user asked for data or a page their grant does not cover (the UI shows it; nothing is returned)."""

    exit_code = 1
