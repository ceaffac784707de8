"""Credentials never shown: the one place that hides them in URLs and free text (CLI, web app, PDF, logs).

What counts as a credential: the password of a URL's userinfo (also when it holds ``@`` or ``:``),
and any URL query parameter or ``key=value`` pair whose key names a secret (``password``,
``sslpassword``, ``passfile``, ``token``, ``secret``, ``api_key``, ``access_key``, ``private_key``,
``sslkey``, ``signature`` … in any case, with ``-``/``_`` or a prefix such as ``aws_secret_access_key``).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from sqlalchemy.engine import URL

MASK = "***"
_SECRET_ENDINGS = (
    "password", "passwd", "pwd", "passfile", "passphrase", "token", "secret", "apikey", "accesskey", "secretkey",
    "privatekey", "sslkey", "credential", "credentials", "signature", "sig", "auth", "authorization",
)
_SECRET_NAMES = frozenset({"pass", "pw", "key"})
_URL = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<rest>[^\s'\"<>`]+)")
_KEY = re.compile(r"(?<![\w.\-])(?P<key>[A-Za-z_][\w.\-]*)[\"']?\s*[=:]\s*")
_VALUE = re.compile(r"'[^']*'|\"[^\"]*\"|[^\s&;,'\"]+")


def is_secret_key(name: str) -> bool:
    """Does this parameter name hold a credential? (over-masking is harmless, under-masking is not)"""
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    return flat in _SECRET_NAMES or flat.endswith(_SECRET_ENDINGS)


def mask_url(url: URL) -> str:
    """A SQLAlchemy URL for display: password and secret query parameters replaced by ``***``."""
    shown = url.set(query={}).render_as_string(hide_password=True)
    pairs = [(k, v) for k, values in url.query.items() for v in ((values,) if isinstance(values, str) else values)]
    if pairs:
        shown += "?" + "&".join(f"{quote(k, safe='')}={MASK if is_secret_key(k) else quote(v, safe='')}"
                                for k, v in pairs)
    return mask_text(shown)


def mask_text(text: str) -> str:
    """Free text (messages, a config file, a driver's error) with every credential replaced by ``***``."""
    return _masked_pairs(_URL.sub(_masked_url, text))


def _masked_url(match: re.Match[str]) -> str:
    """scheme://user:password@host…?k=v: the password is everything up to the authority's last ``@``."""
    rest = match.group("rest")
    if rest.startswith("/"):  # no authority (sqlite:////path): nothing to hide before the path
        return match.group(0)
    at = rest.rfind("@", 0, _query_start(rest))
    if at >= 0:
        user, colon, _password = rest[:at].partition(":")
        if colon:
            rest = f"{user}:{MASK}{rest[at:]}"
    return match.group("scheme") + rest


def _masked_pairs(text: str) -> str:
    """``key=value`` / ``key: value`` pairs (URL queries, DSNs, messages) whose key names a secret."""
    out, done = [], 0
    for key in _KEY.finditer(text):
        if key.start() < done or not is_secret_key(key.group("key")):
            continue
        value = _VALUE.match(text, key.end())
        if value is None:
            continue
        quote_char = value.group()[0] if value.group()[0] in "'\"" else ""
        out.append(f"{text[done:key.end()]}{quote_char}{MASK}{quote_char}")
        done = value.end()
    return "".join(out) + text[done:]


def userinfo_quoted(raw: str) -> str:
    """A URL string whose userinfo holds ``@`` (``ro:p@ss@host``) with that ``@`` percent-encoded, so the
    password is read whole (SQLAlchemy alone would end it at the first ``@`` and show the rest as host)."""
    scheme, sep, rest = raw.partition("://")
    if not sep or rest.startswith("/"):
        return raw
    at = rest.rfind("@", 0, _query_start(rest))
    if at < 0 or "@" not in rest[:at]:
        return raw
    user, colon, password = rest[:at].partition(":")
    return f"{scheme}://{user.replace('@', '%40')}{colon}{password.replace('@', '%40')}{rest[at:]}"


def _query_start(rest: str) -> int:
    return min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))


def mask_logs() -> None:
    """Every log record this process writes, from any library (Streamlit, SQLAlchemy, drivers), gets its
    message and traceback masked as it is made (a record factory: it also covers handlers added later)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks_secrets", False):
        return

    def masked(*args, **kwargs) -> logging.LogRecord:  # noqa: ANN002, ANN003 - the factory's own signature
        record = factory(*args, **kwargs)
        try:
            record.msg, record.args = mask_text(record.getMessage()), None
        except (TypeError, ValueError):  # a message whose arguments do not fit it: leave it to logging
            return record
        if record.exc_info:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return record

    masked.masks_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked)
