"""How ``serve`` starts Streamlit: the loopback rule without sign-in, and Streamlit's ``[auth]`` secrets
written to a private file (never the repo or the config's folder) that is removed when the server stops."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from evidence_app.access.log import AccessLog
from evidence_app.config.compute import COMPUTE_ENV, compute_to_env
from evidence_app.config.settings import Config, access_secrets
from evidence_app.errors import UsageError

UI = Path(__file__).resolve().parent
CONFIG_ENV = "EVIDENCE_APP_CONFIG"
#: Streamlit's `[auth]` section; its secrets come from the environment variables the config names.
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
SECRETS_PREFIX = "evidence-app-auth-"


@dataclass(frozen=True)
class Launch:
    """A ready-to-run Streamlit command."""

    argv: list[str]
    env: dict[str, str]
    secrets_dir: Path | None = None
    """The private folder holding secrets.toml (removed after the server stops); None without sign-in."""


def is_loopback(address: str) -> bool:
    """Only literal loopback addresses (or ``localhost``) count: a host name could resolve anywhere."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def url_host(address: str) -> str:
    """The address as it appears in a URL (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def browser_can_reach(address: str) -> bool:
    """Whether a browser could return to this bind address: not a wildcard (``0.0.0.0``, ``::``) or multicast
    address, and, if not an IP address, a syntactically valid host name."""
    bare = address.strip().strip("[]")
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        labels = bare.rstrip(".").split(".")
        return bool(bare) and all(re.fullmatch(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)", x) for x in labels)
    return not (ip.is_unspecified or ip.is_multicast)


def redirect_uri(config: Config, address: str, port: int) -> str:
    """The configured redirect URI, else ``http://<address>:<port>/oauth2callback`` — only where a browser can
    come back to that address (a wildcard bind address would send it to ``http://0.0.0.0:…``)."""
    assert config.access is not None
    if config.access.redirect_uri:
        return config.access.redirect_uri
    if not browser_can_reach(address):
        raise UsageError(f"--address {address}: no browser can return to this address after sign-in; set "
                         f"[access] redirect_uri in {config.path} to the URL people open, ending in /oauth2callback "
                         f"(e.g. https://evidence.example.com/oauth2callback), and register it at the provider")
    return f"http://{url_host(address)}:{port}/oauth2callback"


def prepare(config: Config, address: str, port: int) -> Launch:
    """Check the binding rule, create the access log, write the auth secrets; nothing starts yet."""
    if config.access is None and not is_loopback(address):
        raise UsageError(f"--address {address}: {config.path} has no [access] section (no sign-in), so the app "
                         "only listens on a loopback address such as 127.0.0.1; add [access] to serve others")
    argv = [sys.executable, "-m", "evidence_app.ui.launch", "run", str(UI / "app.py"),
            "--server.port", str(port), "--server.address", address,
            "--runner.magicEnabled", "false"]  # as in ui/.streamlit/config.toml: no bare string is ever drawn
    env = dict(os.environ, **{CONFIG_ENV: str(config.path), COMPUTE_ENV: compute_to_env(config.compute)})
    if config.access is None:
        return Launch(argv, env)
    uri = redirect_uri(config, address, port)  # a bind address no browser can return to: exit 2, before anything
    secrets = access_secrets(config.access)  # a missing secret fails here, exit 2, naming the key
    AccessLog(config.access.log).create()
    for name in (config.access.client_secret_env, config.access.cookie_secret_env):
        if name:
            env.pop(name, None)  # the app itself never needs them: Streamlit reads the private file
    _sweep_stale()
    folder = Path(tempfile.mkdtemp(prefix=f"{SECRETS_PREFIX}{os.getpid()}-"))  # mode 0700, this user only
    values = dict(redirect_uri=uri, cookie_secret=secrets.cookie_secret,
                  client_id=config.access.client_id, client_secret=secrets.client_secret,
                  server_metadata_url=config.access.oidc_metadata_url)
    _write_private(folder / "secrets.toml", _auth_toml(values))
    return Launch(argv + ["--secrets.files", str(folder / "secrets.toml")], env, folder)


def _sweep_stale() -> None:
    """Remove secrets folders of earlier servers that were killed before they could (the pid is in the name)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SECRETS_PREFIX}*-*"):
        pid = folder.name[len(SECRETS_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and folder.is_dir() and folder.stat().st_uid == os.getuid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _auth_toml(values: dict[str, str]) -> str:
    """TOML basic strings accept JSON's escapes (\\", \\\\, \\uXXXX), so json.dumps quotes safely."""
    return "[auth]\n" + "".join(f"{k} = {json.dumps(values[k])}\n" for k in AUTH_KEYS)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def run(launch: Launch) -> int:
    """Run Streamlit from the ui folder (it reads ui/.streamlit/config.toml there); returns its exit code."""
    os.chdir(UI)
    if launch.secrets_dir is None:
        os.execve(launch.argv[0], launch.argv, launch.env)  # nothing to clean up: become Streamlit
    proc = subprocess.Popen(launch.argv, env=launch.env, preexec_fn=_die_with_parent)
    forward = lambda signum, _frame: proc.send_signal(signum)  # noqa: E731
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    try:
        return proc.wait()
    finally:
        shutil.rmtree(launch.secrets_dir, ignore_errors=True)


def _die_with_parent() -> None:
    """Linux: Streamlit gets SIGTERM if ``serve`` is killed, so no server outlives the secrets' cleanup."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
