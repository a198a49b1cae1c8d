"""Who may do what: anonymous callers see nothing, viewers change nothing, bots only ask the gate,
admins sign in by password (a session and the dashboard's cookie) or token; five wrong passwords
in a minute lock the address out for the rest of it; a cookie from another site's page counts
for nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from riskguard.api.auth import SESSION_COOKIE
from riskguard.store.credentials import Role
from tests.integration._rig import ManualClock, Rig, build, paper_venue
from tests.integration.api._client import ADMIN_PASSWORD, BASE_URL, FAST, Api, api_for

pytestmark = pytest.mark.asyncio

RULES = """\
  max_contracts: {limit: 3}
  drawdown_kill_switch: {max_drawdown_pct: 10}
  strategy_settings: {strategies: {"s1/MNQ": {max_strategy_loss: 100}}}
"""
PUBLIC = {"/healthz", "/api/auth/login"}  # the login itself, and a supervisor's health probe


@pytest_asyncio.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    clock = ManualClock(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), monotonic=1000.0)
    rig: Rig = build(tmp_path / "riskguard.db", RULES, paper_venue(clock), clock, retry=FAST)
    await rig.daemon.start()
    try:
        yield api_for(rig, clock, RULES)
    finally:
        await rig.daemon.stop()
        rig.journal.close()


def endpoints(api: Api) -> list[tuple[str, str]]:
    """Every (method, path) of the published schema but the public ones, path parameters filled in."""
    found = []
    for path, operations in api.app.openapi()["paths"].items():
        if path in PUBLIC:
            continue
        filled = path.replace("{strategy_id}", "s1").replace("{symbol}", "MNQ").replace("{token_id}", "abc")
        found += [(method.upper(), filled) for method in operations]
    return found


def changing(api: Api) -> list[tuple[str, str]]:
    return [(method, path) for method, path in endpoints(api) if method != "GET" and "/api/auth/" not in path]


async def test_api_when_anonymous_then_every_endpoint_but_health_and_login_answers_401(api: Api) -> None:
    # Arrange
    async with api.client(None) as client:
        # Act
        answers = {(m, p): (await client.request(m, p, json={})).status_code for m, p in endpoints(api)}
        health = await client.get("/healthz")
    # Assert
    assert len(answers) >= 20
    assert {key: code for key, code in answers.items() if code != 401} == {}
    assert health.json() == {"status": "ok", "reason": None, "daemon": None}  # no details for strangers


async def test_api_when_a_viewer_tries_to_change_anything_then_403_and_nothing_changed(api: Api) -> None:
    # Arrange
    async with api.client(Role.VIEWER) as client:
        before = [(await client.get(p)).json() for p in ("/api/strategies", "/api/rules", "/api/lockouts")]
        # Act
        answers = {
            (m, p): (await client.request(m, p, json={"confirm": True, "reason": "x"})).status_code
            for m, p in changing(api)
        }
        after = [(await client.get(p)).json() for p in ("/api/strategies", "/api/rules", "/api/lockouts")]
        tokens = await client.post("/api/auth/tokens", json={"name": "mine", "role": "admin"})
    # Assert
    assert ("POST", "/api/ops/halt") in answers
    assert {key: code for key, code in answers.items() if code != 403} == {}
    assert tokens.status_code == 403
    assert after == before


async def test_api_when_a_bot_then_it_may_ask_the_gate_but_change_nothing(api: Api) -> None:
    # Arrange
    order = {"order_id": "b-1", "account": "PAPER-USD", "strategy": "s1", "symbol": "MNQ", "side": "buy", "qty": "5"}
    async with api.client(Role.BOT) as client:
        # Act
        check = await client.post("/api/orders/check", json=order)
        halt = await client.post("/api/ops/halt", json={"confirm": True, "reason": "bots may not"})
    # Assert
    assert check.status_code == 200
    assert (check.json()["approved"], check.json()["reason_code"]) == (False, "max_contracts")
    assert halt.status_code == 403
    assert halt.json()["detail"] == "test-bot is a bot; this needs an admin"


async def test_login_when_the_password_is_right_then_a_session_token_and_an_httponly_strict_cookie(api: Api) -> None:
    # Arrange
    async with api.client(None) as client:
        # Act
        answer = await client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        me_by_cookie = await client.get("/api/auth/me")
        async with api.client(None) as cookieless:
            me_by_token = await cookieless.get(
                "/api/auth/me", headers={"Authorization": f"Bearer {answer.json()['token']}"}
            )
        await client.post("/api/auth/logout")
        after_logout = await client.get("/api/auth/me")
    # Assert
    assert answer.status_code == 200
    assert (answer.json()["username"], answer.json()["role"], answer.json()["expires_at"]) == (
        "admin",
        "admin",
        "2026-06-11T02:00:00+00:00",  # 12 hours after 14:00
    )
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert ("httponly" in cookie, "samesite=strict" in cookie, "max-age=43200" in cookie) == (True, True, True)
    assert me_by_cookie.json() == {"username": "admin", "role": "admin", "via": "session"}
    assert me_by_token.json()["via"] == "session"
    assert after_logout.status_code == 401


async def test_login_when_five_wrong_passwords_in_a_minute_then_429_until_the_minute_is_over(api: Api) -> None:
    # Arrange
    clock = api.clock
    wrong = {"username": "admin", "password": "not the password"}
    right = {"username": "admin", "password": ADMIN_PASSWORD}
    async with api.client(None) as client:
        # Act
        first_five = [(await client.post("/api/auth/login", json=wrong)).status_code for _ in range(5)]
        locked = await client.post("/api/auth/login", json=right)
        clock.advance(61)
        later = await client.post("/api/auth/login", json=right)
        unknown_user = await client.post("/api/auth/login", json={"username": "mallory", "password": "whatever1"})
    # Assert
    assert first_five == [401] * 5
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "60"
    assert later.status_code == 200
    assert (unknown_user.status_code, unknown_user.json()["detail"]) == (401, "wrong user name or password")


async def test_cookie_when_sent_from_another_sites_page_then_it_counts_for_nothing(api: Api) -> None:
    # Arrange
    async with api.client(None) as client:
        await client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        # Act
        same_site = await client.get("/api/auth/me", headers={"Origin": BASE_URL})
        other_site = await client.post(
            "/api/ops/pause", json={"reason": "a page elsewhere"}, headers={"Origin": "https://evil.example"}
        )
        risk = await client.get("/api/risk")
    # Assert
    assert same_site.status_code == 200
    assert other_site.status_code == 401
    assert risk.json()["paused"] is False


async def test_tokens_when_an_admin_creates_and_revokes_one_then_it_works_until_revoked(api: Api) -> None:
    # Arrange
    async with api.client(Role.ADMIN) as admin:
        # Act
        created = (await admin.post("/api/auth/tokens", json={"name": "grafana", "role": "viewer"})).json()
        listed = (await admin.get("/api/auth/tokens")).json()
        async with api.client(None) as client:
            headers = {"Authorization": f"Bearer {created['token']}"}
            before = (await client.get("/api/auth/me", headers=headers)).json()
            revoked = await admin.delete(f"/api/auth/tokens/{created['id']}")
            after = await client.get("/api/auth/me", headers=headers)
        again = await admin.delete(f"/api/auth/tokens/{created['id']}")
        bad_role = await admin.post("/api/auth/tokens", json={"name": "x", "role": "root"})
    # Assert
    assert created["token"].startswith("rg_")
    assert [(t["name"], t["role"], t["created_by"]) for t in listed if t["id"] == created["id"]] == [
        ("grafana", "viewer", "test-admin")
    ]
    assert "token" not in listed[0]
    assert before == {"username": "grafana", "role": "viewer", "via": "token"}
    assert (revoked.status_code, after.status_code, again.status_code) == (204, 401, 404)
    assert bad_role.status_code == 422
