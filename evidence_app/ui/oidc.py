"""Sign-in against real OpenID providers, where Streamlit's own routes (``/auth/login``, ``/oauth2callback``) fall
short: they always send ``prompt=select_account`` (many providers refuse it), read claims only from the ID token
(standard providers serve ``email`` and groups at the userinfo endpoint), cannot authenticate with
``client_secret_jwt``/``private_key_jwt``, and answer every failure by silently showing the sign-in page again.

Why a wrapper and not our own OIDC client: Streamlit's routes keep PKCE, nonce, state, the signed session cookie
and RP-initiated logout; :func:`install` replaces only the three module functions they call (client creation,
the login redirect, the callback) with versions that add what is missing, in the ``serve`` process, before
Streamlit starts. A failure is recorded in the access log (``sign_in_failed``) and handed to the page through a
one-time token in a cookie, so no link can make the page show words the provider did not send.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from evidence_app.access.grants import groups_of
from evidence_app.access.log import AccessLog
from evidence_app.config.settings import AccessConfig
from evidence_app.masking import MASK, mask_text

FAILED_COOKIE = "evidence_sign_in_failed"
"""Holds a one-time token naming a failure kept in this process (never the failure's text)."""
#: The claims worth asking the userinfo endpoint for when the ID token lacks them (plus the groups claim).
USERINFO_CLAIMS = ("email", "email_verified")
_KEPT = 256  # failures waiting for their page; older ones are dropped (a page shows a failure within seconds)
_FAILURES: OrderedDict[str, "Failure"] = OrderedDict()
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Failure:
    """A sign-in that did not complete: an OAuth/OIDC error code and what it said, masked."""

    code: str
    description: str = ""

    def line(self) -> str:
        """The one line the sign-in page shows."""
        return f"Sign-in failed: {self.code}" + (f" — {self.description}" if self.description else "")


def failure(code: object, description: object = None, secret: str | None = None) -> Failure:
    """A Failure from untrusted text: the code kept to the OAuth error-code alphabet, the description cleaned of
    control characters, credentials masked (and the client secret itself, should a provider echo it), capped."""
    code_text = str(code or "")
    code_text = code_text if re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", code_text) else "invalid_error"
    text = " ".join(re.sub(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]", "", str(description or "")).split())
    if secret:
        text = text.replace(secret, MASK)
    text = mask_text(text)
    return Failure(code_text, text[:300] + ("…" if len(text) > 300 else ""))


def keep(found: Failure) -> str:
    """Store a failure for the page; the token goes into the browser's cookie."""
    token = secrets.token_urlsafe(18)
    with _LOCK:
        _FAILURES[token] = found
        while len(_FAILURES) > _KEPT:
            _FAILURES.popitem(last=False)
    return token


def take(token: str | None) -> Failure | None:
    """The failure a cookie's token names, once (a reload does not show it again)."""
    if not token:
        return None
    with _LOCK:
        return _FAILURES.pop(token, None)


def merged_claims(id_claims: dict[str, Any], userinfo: dict[str, Any]) -> dict[str, Any]:
    """The ID token's claims completed from userinfo: the ID token wins where both have a claim. Raises
    ValueError when userinfo speaks of another subject (OpenID Connect Core §5.3.2: it must not be used)."""
    if userinfo.get("sub") != id_claims.get("sub"):
        raise ValueError("the userinfo endpoint answered for another subject than the ID token's")
    return {**userinfo, **id_claims}


def for_cookie(claims: dict[str, Any], access: AccessConfig) -> dict[str, Any]:
    """The claims the session cookie keeps: the groups claim cut to the groups a grant names (matching is exact, so
    no grant decision changes) — a person in hundreds of IdP groups would otherwise overflow the cookie, and the
    browser's connection would fail with a blank page."""
    if access.groups_claim not in claims:
        return claims
    named = {grant.group for grant in access.grants if grant.group is not None}
    return {**claims, access.groups_claim: [g for g in groups_of(claims[access.groups_claim]) if g in named]}


def needs_userinfo(id_claims: dict[str, Any], groups_claim: str) -> bool:
    """Whether the ID token lacks a claim the grants may need."""
    return any(k not in id_claims for k in (*USERINFO_CLAIMS, groups_claim))


def install(access: AccessConfig) -> None:
    """Replace Streamlit's client creation, login and callback with the versions below (in this process)."""
    from streamlit.web.server.starlette import starlette_auth_routes as routes

    if getattr(routes, "_evidence_installed", False):
        return
    used = ("_create_oauth_client", "_auth_login", "_auth_callback", "_parse_provider_token", "_get_provider_by_state",
            "_redirect_to_base", "_redirect_to_base_clearing_invalid_cookies", "_clear_auth_cookie",
            "_clear_invalid_auth_cookies", "_set_auth_cookie", "_get_origin_from_secrets", "_get_cookie_path")
    missing = [name for name in used if not callable(getattr(routes, name, None))]
    if missing:  # a Streamlit whose routes changed: refuse to start rather than sign in without these checks
        raise RuntimeError(f"this Streamlit's sign-in routes lack {', '.join(missing)}: evidence-app's sign-in "
                           "needs the Streamlit version pyproject.toml names")
    original = routes._create_oauth_client

    def create_client(provider: str) -> tuple[Any, str]:
        client, redirect = original(provider)
        configure(client, access)
        return client, redirect

    async def login(request: Any, base_url: str) -> Any:
        return await _login(routes, access, request, base_url)

    async def callback(request: Any, base_url: str) -> Any:
        return await _callback(routes, access, request, base_url)

    routes._create_oauth_client = create_client
    routes._auth_login = login
    routes._auth_callback = callback
    routes._evidence_installed = True


def configure(client: Any, access: AccessConfig) -> None:
    """The sign-in's client settings: ``prompt`` only when configured, extra authorisation parameters, and the
    token endpoint's authentication method."""
    client.client_kwargs.pop("prompt", None)  # Streamlit's default select_account: refused by many providers
    if access.prompt:
        client.client_kwargs["prompt"] = access.prompt
    client.authorize_params = dict(access.authorize_params) or None
    method = access.token_endpoint_auth_method
    if method == "client_secret_jwt":
        from authlib.oauth2.rfc7523 import ClientSecretJWT

        client.client_kwargs["token_endpoint_auth_method"] = ClientSecretJWT()
    elif method == "private_key_jwt":
        from authlib.oauth2.rfc7523 import PrivateKeyJWT

        key, alg = signing_key(client.client_secret)
        client.client_secret = key
        kid = key.kid if isinstance(key.kid, str) else None  # the provider picks the key by it where it has several
        client.client_kwargs["token_endpoint_auth_method"] = PrivateKeyJWT(alg=alg,
                                                                           headers={"kid": kid} if kid else None)
    else:
        client.client_kwargs["token_endpoint_auth_method"] = method


def wants_groups(access: AccessConfig) -> bool:
    """Only a ``group`` grant needs the groups: without one the sign-in asks for no more than it uses (a client
    not allowed the groups scope must still sign in by email or sub)."""
    return any(grant.group is not None for grant in access.grants)


def with_groups_scope(client: Any, metadata: dict[str, Any], groups_claim: str) -> None:
    """Ask for the scope named like the groups claim when the provider offers one (Okta's ``groups``, a provider
    mapping ``groups`` to its own scope): without it such providers send no groups at all."""
    scope = str(client.client_kwargs.get("scope") or "").split()
    if groups_claim in (metadata.get("scopes_supported") or []) and groups_claim not in scope:
        client.client_kwargs["scope"] = " ".join([*scope, groups_claim])


def signing_key(text: Any) -> tuple[Any, str]:
    """``private_key_jwt``: the key file's text (PEM, or a private JWK as JSON) as a JWK and its signing algorithm
    (a JWK's own ``alg``, else RSA → RS256, EC → ES256/384/512 by curve)."""
    from joserfc.jwk import ECKey, RSAKey

    if not isinstance(text, str):
        return text, "ES256" if isinstance(text, ECKey) else "RS256"
    if text.lstrip().startswith("{"):
        jwk = json.loads(text)
        key = (ECKey if jwk.get("kty") == "EC" else RSAKey).import_key(jwk)
    else:
        try:
            key = RSAKey.import_key(text)
        except Exception:  # noqa: BLE001 - not RSA: try EC below, whose error is the one reported
            key = ECKey.import_key(text)
    if isinstance(key, ECKey):
        return key, key.alg or {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[key.curve_name]
    return key, key.alg or "RS256"


async def _login(routes: Any, access: AccessConfig, request: Any, base_url: str) -> Any:
    """Streamlit's login redirect, but a provider that cannot be reached is a recorded, shown failure."""
    provider = routes._parse_provider_token(request.query_params.get("provider"))
    if provider is None:
        return await routes._redirect_to_base_clearing_invalid_cookies(request, base_url)
    client, redirect_uri = routes._create_oauth_client(provider)
    try:
        if wants_groups(access):
            with_groups_scope(client, await client.load_server_metadata(), access.groups_claim)
        response = await client.authorize_redirect(request, redirect_uri)
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none escapes as a 400 page
        return await _failed(routes, access, request, base_url, _classified(exc, client))
    routes._clear_invalid_auth_cookies(response, request)
    return response


async def _callback(routes: Any, access: AccessConfig, request: Any, base_url: str) -> Any:
    """The provider's answer: an error, a state this browser did not start, a failed token exchange or ID-token
    check, or a userinfo answer for someone else → a failure; else the cookie Streamlit sets, with merged claims."""
    query = request.query_params
    if not any(k in query for k in ("state", "code", "error")):  # the return from the provider's sign-out page
        return await routes._redirect_to_base_clearing_invalid_cookies(request, base_url)
    state = query.get("state")
    provider = routes._get_provider_by_state(request, state)
    if provider is None:  # a link anyone can send: it must not sign out whoever follows it
        return await _failed(routes, access, request, base_url, failure(
            "state_mismatch", "the answer's state does not belong to a sign-in started in this browser "
            "(expired, replayed or forged): start again"), keep_session=True)
    client, _ = routes._create_oauth_client(provider)
    if query.get("error"):
        request.session.pop(f"_state_{provider}_{state}", None)
        return await _failed(routes, access, request, base_url,
                             failure(query.get("error"), query.get("error_description"), client.client_secret))
    try:
        token = await client.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        if not claims.get("sub"):
            raise _Refused("invalid_id_token", "the provider sent no ID token with a subject (sub)")
        metadata = await client.load_server_metadata()
        if needs_userinfo(claims, access.groups_claim) and metadata.get("userinfo_endpoint"):
            answer = await client.userinfo(token={k: token[k] for k in ("access_token", "token_type") if k in token})
            try:
                claims = merged_claims(claims, dict(answer))
            except ValueError as exc:
                raise _Refused("sub_mismatch", str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none escapes
        return await _failed(routes, access, request, base_url, _classified(exc, client))
    response = await routes._redirect_to_base_clearing_invalid_cookies(request, base_url)
    origin = routes._get_origin_from_secrets()
    tokens = {k: token[k] for k in ("id_token", "access_token") if k in token}
    await routes._set_auth_cookie(response, dict(for_cookie(claims, access), origin=origin, is_logged_in=True,
                                                 provider=provider), tokens)
    response.delete_cookie(FAILED_COOKIE, path=routes._get_cookie_path())
    return response


class _Refused(Exception):
    """A sign-in this module refuses (not the provider): its code and why."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = code, description


def _classified(exc: Exception, client: Any) -> Failure:
    """An exception from the sign-in as a Failure: the provider's own error code where it sent one."""
    import httpx

    secret = client.client_secret if isinstance(client.client_secret, str) else None
    if isinstance(exc, httpx.TransportError):
        return failure("provider_unreachable", f"the identity provider could not be reached: {exc}"
                       f" ({type(exc).__name__})", secret)
    if isinstance(exc, httpx.HTTPStatusError):
        return failure("provider_error", f"the identity provider answered HTTP {exc.response.status_code} "
                       f"at {exc.request.url.copy_with(query=None)}", secret)
    code = getattr(exc, "error", None)
    if code:
        if type(exc).__module__.startswith("joserfc"):  # the ID token's check: signature, nonce, audience, expiry
            return failure("invalid_id_token", f"{code}: {getattr(exc, 'description', None) or exc}", secret)
        return failure(code, getattr(exc, "description", None) or "", secret)
    return failure("sign_in_error", f"{type(exc).__name__}: {exc}", secret)


async def _failed(routes: Any, access: AccessConfig, request: Any, base_url: str, found: Failure,
                  keep_session: bool = False) -> Any:
    """Record the failure, clear the half-made sign-in (but a valid session only when this browser's own sign-in
    failed), and send the browser to the page that shows it."""
    AccessLog(access.log).append("sign_in_failed", params={"error": found.code, "description": found.description})
    if keep_session:
        response = await routes._redirect_to_base_clearing_invalid_cookies(request, base_url)
    else:
        response = await routes._redirect_to_base(base_url)
        routes._clear_auth_cookie(response, request)
    response.set_cookie(FAILED_COOKIE, keep(found), httponly=True, samesite="lax", path=routes._get_cookie_path(),
                        max_age=300)
    return response
