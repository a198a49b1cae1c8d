"""The /risk dashboard end to end: a real browser on a real daemon running the embedded demo.

The demo bot trades strategy "demo" on MNQ every 3 s, so the page has live numbers to show and
the strategy's kill switch can be tripped by lowering its max loss. Each test checks the page
against the API (the daemon's own word), never against the page's own idea of the state.

The tests share one daemon and one signed-in admin page (a few open pages of their own) and run
in file order; each one sets up the state it needs, so any one of them can also run alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

if TYPE_CHECKING:
    from tests.browser.conftest import RunningDaemon

pytestmark = pytest.mark.slow  # a daemon and a browser: about 25 s in all

STRATEGY = "demo/MNQ"
ROW_ID = "demo-MNQ"  # the table's test id suffix for strategy demo on MNQ
ACCOUNT = "PAPER-USD"  # the account the demo bot trades

Screenshot = Callable[[Page, str], Path]
NewContext = Callable[..., BrowserContext]
SignIn = Callable[[Page], None]


# ---- helpers ---------------------------------------------------------------------------------------


def wait_until(condition: Callable[[], Any], *, timeout: float, message: str, interval: float = 0.2) -> Any:
    """Call `condition` until it returns something truthy (which is returned); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting until {message}")
        time.sleep(interval)


def strategy_row(api: httpx.Client) -> dict[str, Any]:
    rows = api.get("/api/strategies").raise_for_status().json()
    return next(row for row in rows if f"{row['strategy_id']}/{row['symbol']}" == STRATEGY)


def risk(api: httpx.Client) -> dict[str, Any]:
    return api.get("/api/risk").raise_for_status().json()


def shown_figures(page: Page) -> dict[str, str]:
    """The header's and the demo account's figures as the page shows them, read in one go (one render)."""
    return page.evaluate(
        """(account) => {
            const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
            return {
                journal_seq: text("journal-seq"),
                as_of: document.querySelector('[data-testid="as-of"]').dateTime,
                equity: text(`equity-${account}`),
                drawdown: text(`gauge-drawdown-${account}-value`),
                daily_realized: text(`gauge-daily-loss-${account}-value`),
            };
        }""",
        ACCOUNT,
    )


def confirm_dialog(page: Page, reason: str, *, check_box: bool = False) -> None:
    """Fill the open confirmation dialog and press its confirm button."""
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("confirm-submit")).to_be_disabled()  # no reason, no action
    page.get_by_test_id("confirm-reason").fill(reason)
    if check_box:
        page.get_by_test_id("confirm-checkbox").check()
    page.get_by_test_id("confirm-submit").click()
    expect(dialog).to_have_count(0)  # closed once the daemon accepted


def save_setting(page: Page, field: str, value: str) -> None:
    page.get_by_test_id(f"strategy-input-{ROW_ID}-{field}").fill(value)
    page.get_by_test_id(f"strategy-save-{ROW_ID}").click()


@pytest.fixture(autouse=True)
def _no_page_errors(page_errors: list[str]) -> Any:
    """Every test ends with a page that threw nothing."""
    yield
    assert page_errors == [], f"the page threw: {page_errors}"


# ---- tests ------------------------------------------------------------------------------------------


def test_dashboard_when_signed_in_then_shows_the_daemons_live_numbers(
    admin_page: Page, api: httpx.Client, screenshot: Screenshot
) -> None:
    # Arrange
    page = admin_page
    expect(page.get_by_test_id("ws-state")).to_have_attribute("data-state", "live", timeout=10_000)
    expect(page.get_by_test_id("execution-mode")).to_have_text("PAPER")
    first = shown_figures(page)
    # Act: the simulated market ticks and the demo bot trades; the daemon journals each step
    expect(page.get_by_test_id("journal-seq")).not_to_have_text(first["journal_seq"], timeout=15_000)
    expect(page.get_by_test_id("as-of")).not_to_have_attribute("datetime", first["as_of"], timeout=15_000)
    expect(page.get_by_test_id(f"equity-{ACCOUNT}")).not_to_have_text(first["equity"], timeout=45_000)  # a fill
    # Assert: what the page shows is what the API said at the same journal position. The test keeps
    # every payload it reads by journal sequence, and looks for the one the page is showing.
    payloads: dict[str, dict[str, Any]] = {}

    def page_matches_a_payload() -> dict[str, str] | None:
        payload = risk(api)
        payloads[str(payload["daemon"]["journal_seq"])] = payload
        shown = shown_figures(page)
        return shown if shown["journal_seq"] in payloads else None

    shown = wait_until(page_matches_a_payload, timeout=20, message="the page shows a state the API also answered")
    payload = payloads[shown["journal_seq"]]
    account = payload["account"][ACCOUNT]
    assert shown["as_of"] == payload["as_of"]
    assert shown["equity"] == f"{account['equity']} {account['currency']}"
    assert shown["drawdown"] == f"{account['drawdown_pct']} %"
    assert shown["daily_realized"] == f"{account['daily_realized_pnl']} {account['currency']}"
    expect(page.get_by_test_id("kill-switch-state")).to_have_attribute(
        "data-state", "active" if payload["kill_switch_active"] else "inactive"
    )
    expect(page.get_by_test_id(f"equity-chart-{ACCOUNT}").locator("polyline")).to_have_count(1)
    screenshot(page, "01-live")


def test_strategy_table_when_a_setting_is_saved_then_the_api_has_the_exact_string(
    admin_page: Page, api: httpx.Client, screenshot: Screenshot
) -> None:
    # Arrange
    page = admin_page
    stop_loss = page.get_by_test_id(f"strategy-input-{ROW_ID}-stop_loss_dollars")
    expect(page.get_by_test_id(f"strategy-row-{ROW_ID}")).to_be_visible(timeout=10_000)
    # Act
    save_setting(page, "stop_loss_dollars", "123.5")
    # Assert
    expect(page.get_by_test_id(f"strategy-message-{ROW_ID}")).to_have_text("Saved", timeout=10_000)
    assert strategy_row(api)["stop_loss_dollars"] == "123.5"
    expect(stop_loss).to_have_value("123.5")
    screenshot(page, "02-setting-saved")


def test_strategy_table_when_the_daemon_refuses_a_value_then_says_why_and_keeps_the_edit(
    admin_page: Page, api: httpx.Client
) -> None:
    # Arrange
    page = admin_page
    before = strategy_row(api)["stop_loss_dollars"]
    stop_loss = page.get_by_test_id(f"strategy-input-{ROW_ID}-stop_loss_dollars")
    # Act
    save_setting(page, "stop_loss_dollars", "-5")
    # Assert: FastAPI's 422 names the field; the typed value survives later updates of the row
    message = page.get_by_test_id(f"strategy-message-{ROW_ID}")
    expect(message).to_contain_text("stop_loss_dollars", timeout=10_000)
    stop_loss.focus()  # the operator goes back to fix it
    seq = page.get_by_test_id("journal-seq").inner_text()
    expect(page.get_by_test_id("journal-seq")).not_to_have_text(seq, timeout=15_000)  # new "strategies" messages
    expect(stop_loss).to_have_value("-5")
    expect(stop_loss).to_be_focused()
    expect(message).to_contain_text("stop_loss_dollars")
    assert strategy_row(api)["stop_loss_dollars"] == before
    # Clean up: back to the daemon's value (an unsaved edit would stay on the page)
    stop_loss.fill(before)
    expect(page.get_by_test_id(f"strategy-save-{ROW_ID}")).to_be_disabled()


def test_strategy_table_when_toggled_then_the_strategy_is_disabled_and_enabled(
    admin_page: Page, api: httpx.Client
) -> None:
    # Arrange
    page = admin_page
    toggle = page.get_by_test_id(f"strategy-enabled-{ROW_ID}")
    status = page.get_by_test_id(f"strategy-status-{ROW_ID}")
    expect(toggle).to_be_checked()
    # Act / Assert
    toggle.uncheck()
    expect(status).to_have_text("Disabled", timeout=10_000)
    assert strategy_row(api)["enabled"] is False
    toggle.check()
    expect(status).to_have_text("Active", timeout=10_000)
    assert strategy_row(api)["enabled"] is True


def test_strategy_kill_switch_when_tripped_then_the_confirmed_reset_clears_it(
    admin_page: Page, api: httpx.Client, screenshot: Screenshot
) -> None:
    # Arrange: the strategy's total PnL from 0, so the fee of the bot's next fill takes it below a 0.01 max loss
    page = admin_page
    status = page.get_by_test_id(f"strategy-status-{ROW_ID}")
    api.post(
        f"/api/strategies/{STRATEGY}/reset-kill-switch", json={"confirm": True, "reason": "browser test: start from 0"}
    ).raise_for_status()
    # Act 1: lower the max loss through the table; the demo bot's next fill kills the strategy
    save_setting(page, "max_strategy_loss", "0.01")
    expect(page.get_by_test_id(f"strategy-message-{ROW_ID}")).to_have_text("Saved", timeout=10_000)
    expect(status).to_have_text("KILLED", timeout=60_000)
    assert strategy_row(api)["is_killed"] is True
    screenshot(page, "03-strategy-killed")

    # Act 2: an emergency halt that also closes every position, so no fill moves total_pnl after the reset
    page.get_by_test_id("halt-button").click()
    confirm_dialog(page, "browser test: stop everything before the reset", check_box=True)
    expect(page.get_by_test_id("halt-row")).not_to_have_count(0, timeout=10_000)
    wait_until(lambda: not risk(api)["positions"], timeout=20, message="the halt closed every position")

    # Act 3: the confirmed reset from the row
    page.get_by_test_id(f"strategy-reset-{ROW_ID}").click()
    with page.expect_response(lambda response: response.url.endswith("/reset-kill-switch")) as answer:
        confirm_dialog(page, "browser test: the cause is understood")

    # Assert
    assert answer.value.status == 200
    assert answer.value.json()["is_killed"] is False
    assert answer.value.json()["total_pnl"] == "0"
    expect(status).to_have_text("Active", timeout=10_000)
    expect(page.get_by_test_id(f"strategy-reset-{ROW_ID}")).to_be_hidden()
    row = strategy_row(api)
    assert (row["is_killed"], row["total_pnl"]) == (False, "0")
    screenshot(page, "04-strategy-reset")

    # Clean up: the max loss back, and trading resumed through the page
    save_setting(page, "max_strategy_loss", "300")
    expect(page.get_by_test_id(f"strategy-message-{ROW_ID}")).to_have_text("Saved", timeout=10_000)
    page.get_by_test_id("resume-button").click()
    confirm_dialog(page, "browser test: done")
    expect(page.get_by_test_id("halt-row")).to_have_count(0, timeout=10_000)
    assert risk(api)["halts"] == []


def test_drawdown_kill_switch_when_shown_tripped_then_the_confirmed_reset_reaches_the_daemon(
    new_context: NewContext, sign_in: SignIn
) -> None:
    # Arrange: the demo cannot lose 1 % (the switch's lowest setting) within a test, so the page is
    # shown a tripped switch: its /api/risk answers are the daemon's with the switch set, and its
    # WebSocket is kept closed so that only those answers reach it. The reset goes to the real daemon.
    page = new_context().new_page()
    page.route_web_socket("**/ws", lambda socket: socket.close())
    shown_tripped = {"on": True}

    def risk_with_the_switch_tripped(route: Route) -> None:
        response = route.fetch()
        payload = response.json()
        if shown_tripped["on"]:
            payload.update(kill_switch_active=True, kill_switch_triggered_at=payload["as_of"])
        route.fulfill(response=response, json=payload)

    page.route("**/api/risk", risk_with_the_switch_tripped)
    sign_in(page)
    state = page.get_by_test_id("kill-switch-state")
    expect(state).to_have_attribute("data-state", "active", timeout=10_000)
    expect(page.get_by_test_id("banner")).to_contain_text("kill switch tripped")
    # Act
    page.get_by_test_id("kill-switch-reset").click()
    shown_tripped["on"] = False  # from now on the page sees the daemon's own (untripped) state
    with page.expect_response("**/api/ops/reset-kill-switch") as answer:
        confirm_dialog(page, "browser test: the drawdown is understood")
    # Assert: the daemon took the confirmed request, and the page shows the switch armed again
    assert answer.value.status == 200
    assert answer.value.json()["ok"] is True
    assert answer.value.request.post_data_json == {
        "confirm": True,
        "reason": "browser test: the drawdown is understood",
    }
    expect(state).to_have_attribute("data-state", "inactive", timeout=10_000)
    expect(page.get_by_test_id("ops-message")).to_have_text("Kill switch reset.")


def test_dashboard_when_the_websocket_is_down_then_it_says_stale_and_polls(
    new_context: NewContext, sign_in: SignIn
) -> None:
    # Arrange: every WebSocket the page opens is closed at once, as by a proxy that drops them
    page = new_context().new_page()
    page.route_web_socket("**/ws", lambda socket: socket.close())
    # Act
    sign_in(page)
    # Assert: the page says so, and still moves on by reading /api/risk every 5 s
    expect(page.get_by_test_id("ws-state")).to_have_attribute("data-state", "stale")
    seq = page.get_by_test_id("journal-seq")
    expect(seq).not_to_have_text("—", timeout=10_000)
    expect(seq).not_to_have_text(seq.inner_text(), timeout=15_000)
    expect(page.get_by_test_id("ws-state")).to_have_attribute("data-state", "stale")


def test_dashboard_when_signed_in_as_viewer_then_every_control_is_disabled(
    new_context: NewContext, daemon: RunningDaemon, screenshot: Screenshot
) -> None:
    # Arrange: the viewer token the daemon wrote on its first start, sent with every request
    page = new_context(extra_http_headers={"Authorization": f"Bearer {daemon.viewer_token()}"}).new_page()
    # Act
    page.goto(f"{daemon.url}/risk")
    # Assert
    expect(page.get_by_test_id("user-role")).to_have_text("viewer", timeout=10_000)
    expect(page.get_by_test_id(f"strategy-row-{ROW_ID}")).to_be_visible(timeout=10_000)
    for control in ("kill-switch-reset", "pause-button", "resume-button", "halt-button"):
        expect(page.get_by_test_id(control)).to_be_disabled()
    expect(page.get_by_test_id(f"strategy-enabled-{ROW_ID}")).to_be_disabled()
    expect(page.get_by_test_id(f"strategy-input-{ROW_ID}-max_strategy_loss")).to_be_disabled()
    screenshot(page, "05-viewer")


def test_login_when_the_password_is_wrong_then_the_form_says_so(new_context: NewContext, daemon: RunningDaemon) -> None:
    # Arrange
    page = new_context().new_page()
    page.goto(f"{daemon.url}/risk")
    # Act
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill("not the password")
    page.get_by_test_id("login-submit").click()
    # Assert
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong user name or password.", timeout=10_000)
    expect(page.get_by_test_id("dashboard")).to_be_hidden()


def test_sign_out_when_clicked_then_the_session_ends(
    new_context: NewContext, sign_in: SignIn, daemon: RunningDaemon
) -> None:
    # Arrange
    context = new_context()
    page = context.new_page()
    sign_in(page)
    # Act
    page.get_by_test_id("sign-out").click()
    # Assert: the form is back, and the cookie no longer opens the API
    expect(page.get_by_test_id("login-note")).to_have_text("Signed out.", timeout=10_000)
    expect(page.get_by_test_id("dashboard")).to_be_hidden()
    assert context.request.get(f"{daemon.url}/api/risk").status == 401
