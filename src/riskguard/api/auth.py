"""Who is asking: sign-in by password or API token, the three roles, and the first start's credentials.

A caller is identified by an `Authorization: Bearer` token (an API token, or the session token
a password login answers with) or by the dashboard's `riskguard_session` cookie (HttpOnly,
SameSite=Strict). Sessions live in memory: a restart signs everyone out, which is the safe way
round. A changing request signed in by the cookie must not come from another site's page: an
`Origin` naming another host is refused, so a page elsewhere cannot act with the operator's
cookie even where a browser would send it. Five failed logins from one address within a minute
answer 429 for the rest of that minute.
"""

# No `from __future__ import annotations` here: FastAPI must see the local Annotated aliases
# (Admin, Viewer ...) in the endpoints' signatures as objects, not as strings it cannot resolve.

import hashlib
import math
import os
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.requests import HTTPConnection
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.types import ASGIApp, Receive, Scope, Send

from riskguard.api.requests import IdSegment, LoginBody, TokenBody
from riskguard.store.credentials import CredentialStore, Role

__all__ = [
    "ACTOR_HEADER",
    "ADMIN_PASSWORD_ENV",
    "ADMIN_PASSWORD_FILE",
    "SESSION_COOKIE",
    "VIEWER_TOKEN_FILE",
    "Authenticator",
    "Principal",
    "SignedInFirst",
]

log = structlog.get_logger("riskguard.api")

SESSION_COOKIE = "riskguard_session"
#: The person an admin token acts for (the controller forwards its operator's name): recorded as
#: "NAME via TOKEN-NAME". Honoured from admin tokens only: anyone else could claim to be anyone.
ACTOR_HEADER = "X-Riskguard-Actor"
ADMIN_PASSWORD_ENV = "RISKGUARD_ADMIN_PASSWORD"
ADMIN_PASSWORD_FILE = "initial-admin-password"
VIEWER_TOKEN_FILE = "viewer.token"

_ACTOR = re.compile(r"[A-Za-z0-9._:@-]{1,64}")
_FAILURES_ALLOWED = 5
_FAILURE_WINDOW = 60.0  # seconds


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: Role
    via: Literal["session", "token"]


@dataclass(frozen=True, slots=True)
class _Session:
    username: str
    role: Role
    expires_at: datetime


class _Me(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    role: Role
    via: Literal["session", "token"]


class _LoggedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    role: Role
    token: str
    expires_at: str


class _TokenRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    role: Role
    created_at: str
    created_by: str


class _NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    role: Role
    token: str


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Authenticator:
    """Signs callers in and answers FastAPI's "who is this, and may they?"."""

    def __init__(
        self,
        store: CredentialStore,
        *,
        wall_clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        session_hours: float = 12.0,
        session_cookie: str = SESSION_COOKIE,
    ) -> None:
        self.store = store
        self._wall = wall_clock
        self._mono = monotonic
        self._session_length = timedelta(hours=session_hours)
        self.cookie = session_cookie  # the controller has its own: browsers share cookies across ports
        self._sessions: dict[str, _Session] = {}  # digest of the session token -> session
        self._failures: dict[str, deque[float]] = defaultdict(deque)  # client address -> failure times

    # -- who is asking ---------------------------------------------------------------------

    def identify(self, connection: HTTPConnection) -> Principal | None:
        """The caller of a request or WebSocket, or None (anonymous or an unknown token)."""
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            return self.identify_token(token.strip())
        cookie = connection.cookies.get(self.cookie)
        if cookie:
            principal = self._session(cookie)
            if principal is not None and not _same_origin(connection):
                return None
            return principal
        return None

    def identify_token(self, token: str) -> Principal | None:
        """An API token's or a session token's principal."""
        session = self._session(token)
        if session is not None:
            return session
        info = self.store.token(token)
        return None if info is None else Principal(info.name, info.role, "token")

    def _session(self, token: str) -> Principal | None:
        key = _digest(token)
        session = self._sessions.get(key)
        if session is None:
            return None
        if session.expires_at <= self._wall():
            self._sessions.pop(key, None)
            return None
        return Principal(session.username, session.role, "session")

    # -- FastAPI dependencies --------------------------------------------------------------
    # Coroutines, so FastAPI runs them on the daemon's loop like the endpoints (a plain function
    # would go to a worker thread and read the sessions and the database beside the daemon).

    async def viewer(self, request: Request) -> Principal:
        """Anyone signed in (admin, viewer or bot): reads."""
        principal = self.identify(request)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "sign in first: POST /api/auth/login, or send Authorization: Bearer <API token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return principal

    async def admin(self, request: Request) -> Principal:
        """An admin: changes."""
        principal = await self.viewer(request)
        if principal.role is not Role.ADMIN:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"{principal.username} is a {principal.role.value}; this needs an admin"
            )
        actor = request.headers.get(ACTOR_HEADER)
        if actor and principal.via == "token":
            if not _ACTOR.fullmatch(actor):
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, f"{ACTOR_HEADER} must be 1 to 64 of A-Z a-z 0-9 . _ : @ -"
                )
            return Principal(f"{actor} via {principal.username}", principal.role, principal.via)
        return principal

    async def bot(self, request: Request) -> Principal:
        """A bot or an admin: the pre-trade gate."""
        principal = await self.viewer(request)
        if principal.role not in (Role.ADMIN, Role.BOT):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"{principal.username} is a {principal.role.value}; the order gate needs a bot or admin token",
            )
        return principal

    # -- sign-in ---------------------------------------------------------------------------

    def login(self, body: LoginBody, client: str) -> tuple[_LoggedIn, timedelta]:
        """A session for a right password; 401 for a wrong one, 429 after too many."""
        failures = self._failures[client]
        cutoff = self._mono() - _FAILURE_WINDOW
        while failures and failures[0] < cutoff:
            failures.popleft()
        if len(failures) >= _FAILURES_ALLOWED:
            wait = max(1, math.ceil(failures[0] - cutoff))  # until the oldest failure ages out
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many failed sign-ins from {client}; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        role = self.store.check_password(body.username, body.password)
        if role is None:
            failures.append(self._mono())
            log.warning("sign-in refused", username=body.username, client=client)
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password")
        failures.clear()
        token = secrets.token_urlsafe(32)
        expires = self._wall() + self._session_length
        self._sessions[_digest(token)] = _Session(body.username, role, expires)
        log.info("signed in", username=body.username, role=role.value, client=client)
        return _LoggedIn(
            username=body.username, role=role, token=token, expires_at=expires.isoformat()
        ), self._session_length

    def logout(self, connection: HTTPConnection) -> None:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        for candidate in (
            token.strip() if scheme.lower() == "bearer" else "",
            connection.cookies.get(self.cookie, ""),
        ):
            if candidate:
                self._sessions.pop(_digest(candidate), None)

    def router(self) -> APIRouter:
        """/api/auth: login, logout, me, and the admin's token management."""
        router = APIRouter(prefix="/api/auth", tags=["auth"])
        Viewer = Annotated[Principal, Depends(self.viewer)]  # noqa: N806 - a type alias
        Admin = Annotated[Principal, Depends(self.admin)]  # noqa: N806 - a type alias

        @router.post("/login", response_model=_LoggedIn, responses={401: {}, 429: {}})
        async def login(body: LoginBody, request: Request, response: Response) -> _LoggedIn:
            """Sign in with a password: a session token, and the dashboard's cookie."""
            answer, length = self.login(body, request.client.host if request.client else "unknown")
            response.set_cookie(
                self.cookie,
                answer.token,
                max_age=int(length.total_seconds()),
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
                path="/",
            )
            return answer

        @router.post("/logout", status_code=204, responses={401: {}})
        async def logout(request: Request, _: Viewer) -> Response:
            """End this session (an API token stays valid: revoke it instead)."""
            self.logout(request)
            response = Response(status_code=204)
            response.delete_cookie(self.cookie, path="/")
            return response

        @router.get("/me", response_model=_Me, responses={401: {}})
        async def me(principal: Viewer) -> _Me:
            return _Me(username=principal.username, role=principal.role, via=principal.via)

        @router.get("/tokens", response_model=list[_TokenRow], responses={401: {}, 403: {}})
        async def tokens(_: Admin) -> list[_TokenRow]:
            """Every API token (never the secrets)."""
            return [
                _TokenRow(id=t.id, name=t.name, role=t.role, created_at=t.created_at, created_by=t.created_by)
                for t in self.store.tokens()
            ]

        @router.post("/tokens", response_model=_NewToken, status_code=201, responses={401: {}, 403: {}})
        async def create_token(body: TokenBody, principal: Admin) -> _NewToken:
            """A new API token; its secret is shown in this answer only."""
            info, token = self.store.create_token(body.name, Role(body.role), principal.username, self._wall())
            log.warning("API token created", name=body.name, role=body.role, by=principal.username, id=info.id)
            return _NewToken(id=info.id, name=info.name, role=info.role, token=token)

        @router.delete("/tokens/{token_id}", status_code=204, responses={401: {}, 403: {}, 404: {}})
        async def revoke_token(token_id: IdSegment, principal: Admin) -> Response:
            if not self.store.revoke_token(token_id):
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API token with id {token_id}")
            log.warning("API token revoked", id=token_id, by=principal.username)
            return Response(status_code=204)

        return router

    # -- the first start -------------------------------------------------------------------

    def bootstrap(self, data_dir: Path, env: Mapping[str, str]) -> list[str]:
        """On a new data folder: the user `admin` and a viewer token for the trader. Returns what
        to tell the operator (never a secret itself)."""
        said = []
        if not self.store.has_user("admin"):
            password = env.get(ADMIN_PASSWORD_ENV)
            if password:
                self.store.add_user("admin", Role.ADMIN, password, self._wall())
                said.append(f"user admin created with the password from {ADMIN_PASSWORD_ENV}")
            else:
                password = secrets.token_urlsafe(18)
                self.store.add_user("admin", Role.ADMIN, password, self._wall())
                path = data_dir / ADMIN_PASSWORD_FILE
                _write_private(path, password + "\n")
                said.append(f"user admin created; its password is in {path} (change it, then delete the file)")
        viewer = data_dir / VIEWER_TOKEN_FILE
        if not viewer.exists():
            _, token = self.store.create_token("viewer", Role.VIEWER, "riskguard", self._wall())
            _write_private(viewer, token + "\n")
            said.append(f"a viewer API token for the trader's CLI is in {viewer}")
        return said


def _same_origin(connection: HTTPConnection) -> bool:
    """No Origin (a program, or a same-origin GET), or an Origin naming this very host."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    host = connection.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (never a moment with wider permissions)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


class SignedInFirst:
    """ASGI middleware: an anonymous request under /api (but the login) or /metrics is answered
    401 before anything else, its body included, is read. FastAPI parses a body before it runs the
    endpoint's dependencies, so without this a stranger's malformed body would get a 422 that
    describes the endpoint instead of the 401 every other anonymous request gets. The role checks
    stay in the dependencies."""

    def __init__(self, app: ASGIApp, auth: Authenticator) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        guarded = (path.startswith("/api/") and path != "/api/auth/login") or path == "/metrics"
        if scope["type"] == "http" and guarded and self.auth.identify(Request(scope)) is None:
            response = JSONResponse(
                {"detail": "sign in first: POST /api/auth/login, or send Authorization: Bearer <API token>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
