"""A real local Dask cluster for tests: ``dask scheduler`` and ``dask worker`` processes of this virtual environment
on 127.0.0.1 (free ports), importing the code under test; and the small functions the tests run on its workers
(they live here, importable on the workers, not in a test module)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from evidence_app.errors import SourceError

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """The scheduler's address and the processes behind it (logs in ``folder``)."""

    address: str
    folder: Path
    workers: int
    processes: list[subprocess.Popen] = field(default_factory=list)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.folder.glob("*.log")))

    def wait_for_workers(self, n: int, timeout_s: float) -> None:
        """Until ``n`` workers are registered with the scheduler (a condition, polled), or fail with the logs."""
        from distributed import Client

        deadline = time.monotonic() + timeout_s
        with Client(self.address, timeout=timeout_s, set_as_default=False) as client:
            while True:
                dead = [p.args for p in self.processes if p.poll() is not None]
                if dead:
                    raise RuntimeError(f"a cluster process exited: {dead}\n{self.logs()}")
                if n == 0:
                    return  # the scheduler answered: that is all a cluster without workers waits for
                try:
                    client.wait_for_workers(n, timeout=min(2.0, max(0.1, deadline - time.monotonic())))
                    return
                except TimeoutError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{n} Dask workers not registered within {timeout_s} s\n{self.logs()}") \
                            from None

    def stop(self) -> None:
        for p in reversed(self.processes):  # workers first, then the scheduler
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start_cluster(folder: Path, workers: int, timeout_s: float, pythonpath: list[Path] = (),
                  environ: dict[str, str] | None = None) -> Cluster:
    """``dask scheduler`` + ``workers`` × ``dask worker --nthreads 1`` (each with its nanny), PYTHONPATH set so they
    import this checkout (or what ``pythonpath`` puts first) and this module; returns once every worker is
    registered."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*map(str, pythonpath), str(ROOT), str(ROOT / "tests")]),
               DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1",  # a task that kills its worker twice is lost
               DASK_DISTRIBUTED__WORKER__DAEMON="False", **(environ or {}))
    cluster = Cluster(address, folder, workers)

    def spawn(name: str, *args: str) -> None:
        log = (folder / f"{name}.log").open("wb")
        cluster.processes.append(subprocess.Popen([str(BIN / "dask"), *args], env=env, stdout=log,
                                                  stderr=subprocess.STDOUT, cwd=folder))

    try:
        spawn("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
        for i in range(workers):
            spawn(f"worker-{i}", "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                  "--name", f"w{i}", "--local-directory", str(folder / f"w{i}"))
        cluster.wait_for_workers(workers, timeout_s)
    except BaseException:
        cluster.stop()
        raise
    return cluster


# ------------------------------------------------------------------ run on the workers


def shout(text: str) -> str:
    return text.upper()


def refuse(name: str) -> str:
    raise SourceError(f"operations.url: cannot open {name}: unable to open database file")


def crash(_spec: object) -> None:
    os._exit(3)  # the worker process dies as if killed (out of memory): its nanny restarts it


def pid(_spec: object) -> int:
    return os.getpid()


def linger(seconds: float) -> float:
    """A partition that takes a while (the work itself, not a wait for a condition)."""
    time.sleep(seconds)
    return seconds
