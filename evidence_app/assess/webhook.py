"""POST a JSON result to a webhook (Slack-style chat or any HTTP endpoint); delivered or a DeliveryError.

Only http and https URLs are accepted (never ``file:`` or other schemes urllib would open), redirects are
not followed (a POST must reach the URL given, not wherever an answer points), every request has a
timeout, and the URL is only ever shown masked: webhook URLs carry their secret in the userinfo, the path
or the query.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from evidence_app import __version__
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
    return url.strip()


def masked(url: str) -> str:
    """The URL with everything that may be a credential hidden: the password, the path and the query (only
    scheme, user name, host and port stay readable)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    user = parts.username or ""
    userinfo = f"{user}:***@" if parts.password is not None else (f"{user}@" if user else "")
    path = "/***" if parts.path not in ("", "/") else parts.path
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{userinfo}{host}{port}{path}{query}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - urllib's signature
        return None  # urllib then raises HTTPError for the 3xx answer: reported as not delivered


def post_json(url: str, payload: dict, timeout_s: float) -> int:
    """POST ``payload`` as JSON; the HTTP status when it is 2xx, else DeliveryError naming the masked URL."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(checked_url(url), data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": f"evidence-app/{__version__}"})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout_s) as answer:
            answer.read(_ANSWER_LIMIT)
            status = answer.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook {masked(url)} answered HTTP {exc.code}: not delivered") from exc
    except urllib.error.URLError as exc:
        raise DeliveryError(f"webhook {masked(url)} unreachable: {exc.reason}") from exc
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(f"webhook {masked(url)} unreachable: {exc or type(exc).__name__}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook {masked(url)} answered HTTP {status}: not delivered")
    return status
