"""The partitions as tasks on a Dask distributed cluster: each worker reads its own partition from the stores, only
results travel back; every failure (scheduler unreachable, no worker, a worker lost, a partition's own error,
another evidence-app on a worker) is one line of the project's exception tree."""

from __future__ import annotations

import hashlib
import logging
import sys
import time
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

from evidence_app import __version__
from evidence_app.config.compute import ComputeConfig
from evidence_app.errors import ComputeError, EvidenceError
from evidence_app.masking import mask_text

S = TypeVar("S")
R = TypeVar("R")
Progress = Callable[[str, int], None]
"""progress(stage, units_done_since_last_call), as ``ingest.dataset.Progress``."""

CONNECT_TIMEOUT_S = 30.0
"""How long the scheduler may take to answer, and the workers to join it, before the run is refused."""
POLL_S = 1.0
"""How often a wait for results looks whether the cluster still has workers and the scheduler is still there."""
STAGE = "partitions"
"""The progress stage: one unit per partition whose result has come back."""
_PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one partition: its result, or the project error it raised (as data, so the
    worker's log never holds it and the client raises it as the same one line)."""

    value: Any = None
    error: EvidenceError | None = None
    failure: str | None = None
    """Any other exception, as ``Type: first line`` (masked): a bug or the worker's own trouble (MemoryError)."""


def run_on_worker(fn: Callable[[S], R], spec: S) -> Outcome:
    """Run one partition where the worker is; its errors come back as data, never as a logged traceback."""
    try:
        return Outcome(value=fn(spec))
    except EvidenceError as exc:
        return Outcome(error=type(exc)(mask_text(str(exc))))
    except Exception as exc:  # noqa: BLE001 - any other failure is reported as one line by the client
        return Outcome(failure=f"{type(exc).__name__}: {_first_line(exc)}")


LIBRARIES = ("pandas", "numpy", "pyarrow", "sqlalchemy", "distributed", "cloudpickle")
"""What shapes the numbers or carries them between the machines: the same versions everywhere."""


@dataclass(frozen=True)
class Installed:
    """What a process runs: evidence-app's version and a digest of its code, Python's minor version, and the
    versions of the libraries that compute or carry the numbers."""

    evidence_app: str
    code: str
    python: str
    libraries: tuple[tuple[str, str], ...]

    def differences(self, other: "Installed") -> list[str]:
        """``what: this vs other`` for everything that differs."""
        mine, theirs = dict(self._items()), dict(other._items())
        return [f"{k} {theirs.get(k)} there, {v} here" for k, v in mine.items() if theirs.get(k) != v]

    def _items(self) -> list[tuple[str, str]]:
        return [("evidence-app", self.evidence_app), ("evidence-app code", self.code), ("Python", self.python),
                *self.libraries]


def installed() -> Installed:
    """This process's :class:`Installed` (on a worker: the worker's)."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        if "_bundled" not in path.parts:
            digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    libraries = []
    for name in LIBRARIES:
        try:
            libraries.append((name, version(name)))
        except PackageNotFoundError:
            libraries.append((name, "absent"))
    return Installed(__version__, digest.hexdigest()[:16], "%d.%d" % sys.version_info[:2], tuple(libraries))


@dataclass(frozen=True)
class DaskExecutor:
    """``map_partitions``'s executor for a Dask scheduler: ``executor(fn, specs)`` → results in the specs' order."""

    scheduler: str
    """``tcp://host:port``, checked by ``config.compute``."""
    progress: Progress | None = None
    timeout_s: float = CONNECT_TIMEOUT_S

    def __call__(self, fn: Callable[[S], R], specs: Sequence[S]) -> Iterator[R]:
        """Submit one task per partition, then yield the results in the specs' order, each fetched only when it is
        due (the others wait on their workers: this side holds one at a time); one line of the project's errors on
        any failure, before anything partial is used."""
        with _quiet_client_logs(), self._client() as client:
            with warnings.catch_warnings():  # distributed's own "mismatched versions": the check below names them
                warnings.simplefilter("ignore")
                _check_workers(client, self.scheduler, self.timeout_s)
            yield from self._in_order(client, fn, specs)

    def check(self) -> None:
        """Connect, and check the workers, now: before the stores are read for routing, so an unreachable scheduler
        or a mismatched worker costs seconds, not a pre-pass over the period."""
        with _quiet_client_logs(), self._client() as client, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_workers(client, self.scheduler, self.timeout_s)

    @contextmanager
    def _client(self) -> Iterator[Any]:
        from distributed import Client

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                client = Client(self.scheduler, timeout=self.timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ComputeError(f"compute.scheduler: cannot reach the Dask scheduler at {self.scheduler} within "
                               f"{self.timeout_s:g} s ({_first_line(exc)})") from None
        try:
            yield client
        finally:
            client.close(timeout=self.timeout_s)

    def _in_order(self, client: Any, fn: Callable[[S], R], specs: Sequence[S]) -> Iterator[R]:
        from distributed import wait

        n = len(specs)
        run = uuid.uuid4().hex[:12]  # task names say which partition, never what it reads (no URL, no tenant)
        futures: list[Any] = [client.submit(run_on_worker, fn, spec, key=f"evidence-app-partition-{i + 1}-of-{n}-{run}",
                                            pure=False) for i, spec in enumerate(specs)]
        reported, alone_since = 0, None
        try:
            for i in range(n):
                while not futures[i].done():
                    try:
                        with client.as_current():  # wait() asks for the current client
                            wait([futures[i]], timeout=POLL_S)
                    except TimeoutError:
                        alone_since = self._still_served(client, alone_since, i, n)
                    except Exception as exc:  # noqa: BLE001 - cancelled: the scheduler is gone, or dropped the task
                        raise self._lost(client, exc, i, n) from None
                    reported = self._heard(futures, reported)
                    _fail_fast(futures, n, self.scheduler)
                value = _value(futures[i], i, n, self.scheduler)
                futures[i] = None  # the worker may let the result go; this side keeps only what it yields
                reported = self._heard(futures, reported)
                yield value
        finally:
            client.cancel([f for f in futures if f is not None], force=True)

    def _lost(self, client: Any, exc: Exception, i: int, n: int) -> ComputeError:
        """The one line for a wait that ended without a result: the scheduler gone, or the task dropped."""
        if client.status != "running" or "connection" in str(exc).lower():
            return self._disconnected(i, n)
        return ComputeError(f"partition {i + 1} of {n} on {self.scheduler}: {type(exc).__name__}: "
                            f"{_first_line(exc)}")

    def _heard(self, futures: list[Any], reported: int) -> int:
        """Report partitions newly finished on the cluster (fetched or not); returns how many are reported."""
        done = sum(f is None or f.done() for f in futures)
        if self.progress is not None and done > reported:
            self.progress(STAGE, done - reported)
        return max(done, reported)

    def _disconnected(self, i: int, n: int) -> ComputeError:
        return _disconnected(self.scheduler, i, n)

    def _still_served(self, client: Any, alone_since: float | None, i: int, n: int) -> float | None:
        """Between results: the scheduler must still answer and keep a worker (none for ``timeout_s``: refused)."""
        if client.status != "running":
            raise self._disconnected(i, n)
        try:
            workers = client.nthreads()
        except (OSError, TimeoutError):
            raise self._disconnected(i, n) from None
        if workers:
            return None
        now = time.monotonic()
        if alone_since is not None and now - alone_since > self.timeout_s:
            raise ComputeError(f"compute.scheduler: every Dask worker left the scheduler at {self.scheduler} and "
                               f"none joined within {self.timeout_s:g} s; the partitions were not computed")
        return alone_since if alone_since is not None else now


def _disconnected(scheduler: str, i: int, n: int) -> ComputeError:
    """The one line for a scheduler gone while partitions ran (however the client learnt it)."""
    return ComputeError(f"compute.scheduler: lost the connection to the Dask scheduler at {scheduler} while "
                        f"partition {i + 1} of {n} ran; nothing was computed")


def _fail_fast(futures: list[Any], n: int, scheduler: str) -> None:
    """A partition whose task erred (its workers died, it was cancelled) ends the run now, not when its turn comes."""
    for i, future in enumerate(futures):
        if future is not None and future.status in ("error", "cancelled"):
            _value(future, i, n, scheduler)


def _value(future: Any, i: int, n: int, scheduler: str) -> Any:
    """One partition's result, or the one line saying why there is none."""
    from distributed import KilledWorker

    where = f"partition {i + 1} of {n}"
    try:
        outcome = future.result()
    except KilledWorker:
        raise ComputeError(f"{where}: the Dask workers running it died (lost worker, out of memory?); nothing was "
                           "computed") from None
    except Exception as exc:  # noqa: BLE001 - cancelled (scheduler gone), or a task that failed before it ran
        if "Cancelled" in type(exc).__name__:
            raise _disconnected(scheduler, i, n) from None
        raise ComputeError(f"{where} on {scheduler}: {type(exc).__name__}: {_first_line(exc)}") from None
    if outcome.error is not None:
        raise type(outcome.error)(str(outcome.error)) from None  # the worker's error, as the same one line
    if outcome.failure is not None:
        raise ComputeError(f"{where} failed on a Dask worker: {outcome.failure}")
    return outcome.value


def _check_workers(client: Any, scheduler: str, timeout_s: float) -> None:
    """At least one worker, each running this evidence-app (same version and code), Python and distributed: a
    worker with other code could compute other numbers."""
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except TimeoutError:
        raise ComputeError(f"compute.scheduler: no Dask worker joined the scheduler at {scheduler} within "
                           f"{timeout_s:g} s (start `dask worker {scheduler}` where evidence-app is installed)"
                           ) from None
    here = installed()
    try:
        there: dict[str, Installed] = client.run(installed)
    except Exception as exc:  # noqa: BLE001 - a worker that cannot import evidence_app fails to unpickle the call
        raise ComputeError(f"compute.scheduler: the Dask workers at {scheduler} cannot run evidence-app "
                           f"({type(exc).__name__}: {_first_line(exc)}); install evidence-app {here.evidence_app} "
                           "on every worker") from None
    for worker, theirs in sorted(there.items()):
        if theirs != here:
            raise ComputeError(f"compute.scheduler: Dask worker {worker} does not run what this machine runs ("
                               f"{'; '.join(here.differences(theirs))}): install the same evidence-app, Python and "
                               f"libraries ({', '.join(LIBRARIES)}) on every worker")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return mask_text(text.splitlines()[0] if text else type(exc).__name__)


@contextmanager
def _quiet_client_logs() -> Iterator[None]:
    """distributed logs reconnect attempts and closing comms on this side; the one line we raise says it all."""
    import distributed  # noqa: F401 - its loggers exist (and have dask's levels) once it is imported

    names = ["distributed", *(n for n in logging.Logger.manager.loggerDict if n.startswith("distributed."))]
    loggers = [logging.getLogger(n) for n in names]  # dask's config gives some of them their own level
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def executor_for(compute: ComputeConfig, progress: Progress | None = None) -> DaskExecutor | None:
    """A DaskExecutor for ``[compute] scheduler``, or None: the partitions run one after another in this process."""
    return DaskExecutor(compute.scheduler, progress, float(compute.timeout_seconds)) if compute.scheduler else None


__all__ = ["LIBRARIES", "DaskExecutor", "Installed", "Outcome", "executor_for", "installed", "run_on_worker"]
