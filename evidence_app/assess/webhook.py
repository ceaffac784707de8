"""POST a JSON result to a webhook (Slack-style chat or any HTTP endpoint); delivered or a DeliveryError.

Only http and https URLs are accepted (never ``file:`` or other schemes urllib would open), redirects are
not followed (a POST must reach the URL given, not wherever an answer points), one deadline covers the
whole delivery (connecting, sending and reading the answer: a server that drips a byte at a time cannot hold
a cron run), and the URL is only ever shown masked: webhook URLs carry their secret in the userinfo, the path
or the query. A ``user:password@`` in the URL is sent as HTTP Basic authorization — never in the request line
or the Host header, through a proxy (``http_proxy``/``https_proxy``) too.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit, urlunsplit

from evidence_app import __version__
from evidence_app.config.monitoring import MAX_WEBHOOK_TIMEOUT_SECONDS as MAX_TIMEOUT_SECONDS
from evidence_app.errors import DeliveryError, UsageError

SCHEMES = ("http", "https")
_ANSWER_LIMIT = 64 * 1024  # read (and drop) at most this much of the answer


def checked_url(url: str, option: str = "--webhook") -> str:
    """The URL when it is an absolute http(s) URL with a host; else a usage error naming ``option``."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise UsageError(f"{option}: not a valid URL: {masked(url)}") from None  # the cause would repeat the unmasked URL
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise UsageError(f"{option}: only http:// and https:// URLs with a host are accepted, got {masked(url)}")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url.strip()):
        # http.client would refuse it with the raw path and query (the secret) in its message
        raise UsageError(f"{option}: a URL cannot hold spaces or control characters (percent-encode them), "
                         f"got {masked(url)}")
    return url.strip()


def masked(url: str) -> str:
    """The URL with everything that may be a credential hidden: the password, the path and the query (only
    scheme, host, port and a user name beside a password stay readable; a user name alone may be a key)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    user = parts.username or ""
    # a user name alone is how many APIs take a key (Basic auth, empty password), and one holding an encoded ':'
    # holds a password: shown only beside a password
    userinfo = f"{user}:***@" if parts.password is not None and "%3a" not in user.lower() else ("***@" if user else "")
    path = "/***" if parts.path not in ("", "/") else parts.path
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{userinfo}{host}{port}{path}{query}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - urllib's signature
        return None  # urllib then raises HTTPError for the 3xx answer: reported as not delivered


def post_json(url: str, payload: dict, timeout_s: float) -> int:
    """POST ``payload`` as JSON within ``timeout_s`` seconds in all; the HTTP status when it is 2xx, else
    DeliveryError naming the masked URL."""
    if not (math.isfinite(timeout_s) and 0 < timeout_s <= MAX_TIMEOUT_SECONDS):
        raise UsageError(f"webhook timeout: a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS:g}, "
                         f"got {timeout_s!r}")
    request = _request(checked_url(url), json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    outcome: dict[str, object] = {}
    worker = threading.Thread(target=_deliver, args=(request, timeout_s, outcome), daemon=True)
    worker.start()
    worker.join(timeout_s)  # the one deadline; a worker still waiting on a dripping server is abandoned
    if worker.is_alive():
        raise DeliveryError(f"webhook {masked(url)} gave no complete answer within {timeout_s:g} s: not delivered")
    error = outcome.get("error")
    if isinstance(error, urllib.error.HTTPError):
        raise DeliveryError(f"webhook {masked(url)} answered HTTP {error.code}: not delivered")
    if isinstance(error, urllib.error.URLError):
        raise DeliveryError(f"webhook {masked(url)} unreachable: {_scrubbed(str(error.reason), url)}")
    if isinstance(error, BaseException):
        raise DeliveryError(f"webhook {masked(url)} unreachable: {_scrubbed(str(error), url) or type(error).__name__}")
    status = int(outcome["status"])  # type: ignore[call-overload]
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook {masked(url)} answered HTTP {status}: not delivered")
    return status




def _scrubbed(text: str, url: str) -> str:
    """An error's text with every piece of the URL that may be a secret (password, path, query; raw, decoded or
    as Python's repr writes them) replaced by ``***``: library messages may repeat the request line."""
    try:
        parts = urlsplit(url.strip())
        secrets_ = [parts.password or "", parts.path if parts.path not in ("", "/") else "", parts.query,
                    parts.username or "" if parts.password is None else ""]  # a user name alone may be a key
    except ValueError:
        return "<error text hidden: the URL is unparseable>"
    pieces = {p for s in secrets_ if s for p in (s, unquote(s), repr(s)[1:-1], repr(unquote(s))[1:-1])}
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "***")
    for segment in (seg for s in secrets_ if s for seg in s.replace("?", "/").replace("&", "/").split("/")):
        if len(segment) >= 6:  # a token cut out of a longer piece the library rewrote
            text = text.replace(segment, "***")
    return text


def _request(url: str, body: bytes) -> urllib.request.Request:
    """The POST, its URL without userinfo; a ``user:password@`` becomes a Basic Authorization header."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": f"evidence-app/{__version__}"}
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return urllib.request.Request(target, data=body, method="POST", headers=headers)


def _deliver(request: urllib.request.Request, timeout_s: float, outcome: dict[str, object]) -> None:
    """Send the request and read (at most 64 KiB of) the answer; the status or the error into ``outcome``."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout_s) as answer:
            answer.read(_ANSWER_LIMIT)
            outcome["status"] = answer.status
    except Exception as exc:  # noqa: BLE001 - every failure is reported by the caller, masked
        outcome["error"] = exc
