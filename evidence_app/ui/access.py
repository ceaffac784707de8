"""The web app's gate and its one place of recording: who this session is (st.user → grant), the sign-in and
no-access screens, and ``record``/``download``, through which every logged action passes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

import streamlit as st

from evidence_app.access import AccessLog, Bound, Identity, combined, identity_from_claims, matching_grants
from evidence_app.config.settings import Config, Grant
from evidence_app.errors import AccessDenied
from evidence_app.ui.components import file_name as safe_file_name
from evidence_app.ui.components import plain
from evidence_app.ui.oidc import FAILED_COOKIE, Failure, take

VISITOR_KEY = "evidence_visitor"
_SESSION_KEY = "evidence_session"
_SIGNED_IN_KEY = "evidence_signed_in"
_FAILURE_KEY = "evidence_sign_in_failure"


@dataclass(frozen=True)
class Visitor:
    """Who uses this browser session. Without ``[access]`` there is no log and no bound (the app as before)."""

    session: str
    """Random per Streamlit session: groups one visit's log entries."""
    log: AccessLog | None = None
    """The access log; None when sign-in is off (nothing is recorded)."""
    identity: Identity | None = None
    grant: Grant | None = None

    @property
    def role(self) -> str | None:
        return self.grant.role if self.grant else None

    @property
    def bound(self) -> Bound:
        return Bound.of(self.grant)

    def record(self, action: str, page: str | None = None, **params: object) -> None:
        """Append to the access log and return only once it is on disk (no-op when sign-in is off)."""
        if self.log is None:
            return
        who = self.identity
        self.log.append(action, session=self.session, sub=who.sub if who else None, email=who.email if who else None,
                        role=self.role, scope=self.bound.as_json(), page=page, params=params)


def visitor() -> Visitor:
    """This session's visitor, as the router established it; fails closed if the router did not run."""
    found = st.session_state.get(VISITOR_KEY)
    if not isinstance(found, Visitor):
        raise AccessDenied("this session has not been signed in")
    return found


def record(action: str, page: str | None = None, **params: object) -> None:
    """Record an action of this session (see Visitor.record)."""
    visitor().record(action, page, **params)


def admit(config: Config) -> Visitor:
    """The router's gate: sign-in off → everyone; else a signed-in user with a grant, or a screen and a stop."""
    session = st.session_state.setdefault(_SESSION_KEY, secrets.token_hex(8))
    if config.access is None:
        return Visitor(session)
    log = AccessLog(config.access.log)
    claims = st.user.to_dict()
    if "is_logged_in" not in claims:  # Streamlit was started without [auth] secrets: fail closed
        st.error("Sign-in is configured (`[access]`), but this server was not started with its secrets. "
                 "Start it with `evidence-app serve --config …`.")
        st.stop()
    if not claims["is_logged_in"]:
        _sign_in_screen()
    who = identity_from_claims(claims, config.access.groups_claim)
    if who is None:
        _refuse(Visitor(session, log), "Your identity provider sent no subject (sub) claim.")
    matched = matching_grants(config.access, who)
    grant = combined(matched)
    found = Visitor(session, log, who, grant)
    if st.session_state.get(_SIGNED_IN_KEY) != who.sub:
        found.record("sign_in" if grant else "sign_in_denied", grants=[f"access.grant[{g.index}] {g.who}"
                                                                       for g in matched], **_claims_noted())
        st.session_state[_SIGNED_IN_KEY] = who.sub
    if grant is None and matched:
        _refuse(found, f"You are signed in as **{plain(who.email or who.sub)}**; your grants "
                       f"({plain(', '.join(f'access.grant[{g.index}]' for g in matched))}) give days with a gap "
                       "between them, which one view cannot show.")
    if grant is None:
        _refuse(found, f"You are signed in as **{plain(who.email or who.sub)}**, but this evidence-app has no access "
                       "grant for you.")
    return found


def sign_out_button(found: Visitor) -> None:
    """In the sidebar: who is signed in, and a sign-out that is recorded before the cookie goes."""
    if found.identity is None:
        return
    who = found.identity
    st.sidebar.caption(f"Signed in as {plain(who.email or who.sub)} · {plain(found.role)}"
                       + (f" · limited to {plain(found.bound.label())}" if found.bound.limited else ""))
    if st.sidebar.button("Sign out", key="sign_out"):
        found.record("sign_out")
        st.session_state.pop(_SIGNED_IN_KEY, None)
        st.logout()


def download(label: str, make: Callable[[], bytes], *, file_name: str, mime: str, key: str, action: str,
             page: str, **params: object) -> None:
    """A download button whose file is made, and the download recorded, only when it is clicked.

    The recording happens server-side before the bytes leave, so no page can offer a file unlogged
    (pages must use this, never st.download_button; tests/test_access_ui.py checks that)."""
    found = visitor()

    def made() -> bytes:  # on the click, not at every render: a million-line CSV costs nothing until asked for
        if found.log is not None:
            found.record(action, page, file=file_name, **params)
        return make()

    st.download_button(label, made, file_name=safe_file_name(file_name), mime=mime, key=key)


def _claims_noted() -> dict:
    """What the log keeps of a sign-in besides sub and email: the token's issuer and issue time."""
    claims = st.user.to_dict()
    return {k: claims[k] for k in ("iss", "iat", "email_verified") if k in claims}


def _sign_in_screen() -> None:
    st.title("Sign in")
    st.markdown("This evidence-app shows audit-trail evidence to the people its administrators granted access. "
                "Sign in with your organisation's account to continue.")
    failed = _failure()
    if failed is not None:
        st.error(plain(failed.line()))
    if st.query_params:
        st.caption("You followed a shared link: after signing in you return to the start page; open the link "
                   "again to see what it shows.")
    if st.button("Sign in", type="primary", key="sign_in"):
        st.login()
    st.stop()


def _failure() -> Failure | None:
    """The failed sign-in this browser came back from (kept for the session: reruns show it again)."""
    if _FAILURE_KEY not in st.session_state:
        st.session_state[_FAILURE_KEY] = take(st.context.cookies.get(FAILED_COOKIE))
    return st.session_state[_FAILURE_KEY]


def _refuse(found: Visitor, why: str) -> None:
    st.title("No access")
    st.error(why + " Ask an administrator of this evidence-app to add an `[[access.grant]]` for you.")
    if st.button("Sign out", key="sign_out_refused"):
        found.record("sign_out")
        st.session_state.pop(_SIGNED_IN_KEY, None)
        st.logout()
    st.stop()
