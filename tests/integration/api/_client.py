"""An API over a test rig, and signed-in clients for each role (API tokens made in the rig's database)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

from riskguard.api import create_app
from riskguard.api.auth import Authenticator
from riskguard.config import RiskConfig, parse_config
from riskguard.daemon.executor import RetryPolicy
from riskguard.store.credentials import CredentialStore, Role
from tests.integration._rig import ManualClock, Rig

BASE_URL = "http://riskguard.test"
ADMIN_PASSWORD = "correct horse battery staple"


#: Enforcement retries fast enough for a test.
FAST = RetryPolicy(max_attempts=3, first_delay=0.01, max_delay=0.02)


@dataclass
class Api:
    app: FastAPI
    auth: Authenticator
    rig: Rig
    clock: ManualClock
    tokens: dict[Role, str] = field(default_factory=dict)

    def client(self, role: Role | None) -> httpx.AsyncClient:
        """A client signed in with `role`'s API token (None: anonymous)."""
        headers = {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE_URL, headers=headers)


def api_for(rig: Rig, clock: ManualClock, config: RiskConfig | str) -> Api:
    """The API over `rig` with the user admin (ADMIN_PASSWORD) and one token per role."""
    if isinstance(config, str):
        config = parse_config(f"rules:\n{config}", "test", env={})
    store = CredentialStore(rig.journal.db)
    auth = Authenticator(store, wall_clock=clock.now, monotonic=clock.monotonic)
    if not store.has_user("admin"):
        store.add_user("admin", Role.ADMIN, ADMIN_PASSWORD, clock.now())
    tokens = {role: store.create_token(f"test-{role.value}", role, "test", clock.now())[1] for role in Role}
    app = create_app(rig.daemon, config, auth, wall_clock=clock.now, monotonic=clock.monotonic)
    return Api(app, auth, rig, clock, tokens)
