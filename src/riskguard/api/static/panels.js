// Drawing the risk state (GET /api/risk, the WebSocket's "risk" messages) into the page's panels.
// Pure views: each function takes the data it shows and replaces its panel's content. Field
// names are those of RiskPayload in src/riskguard/api/schemas.py.

import { equityChart, gauge, shareOfLimit, toneOf } from "./charts.js";
import { emptyNote, fill, h, table } from "./dom.js";
import { dateTime, decimalText, duration, isNegative, money, percent, timeOfDay } from "./format.js";

const byId = (id) => document.getElementById(id);

function badge(text, tone, props = {}) {
  return h("span", { class: `badge badge-${tone}`, text, ...props });
}

function setBadge(element, text, tone, title = "") {
  element.textContent = text;
  element.className = `badge badge-${tone}`;
  element.title = title;
}

/** Fill panel `id` with what `draw` makes of `items`, or with `emptyText` when there are none. */
function fillPanel(id, items, emptyText, draw) {
  fill(byId(id), items.length ? draw(items) : emptyNote(emptyText));
}

// ---- header and banner -------------------------------------------------------------------------

export function renderHeader(risk) {
  const mode = risk.execution_mode;
  setBadge(byId("execution-mode"), mode.toUpperCase(), mode === "live" ? "live" : "quiet", `execution mode: ${mode}`);
  renderTradingState(risk);
  renderDaemonState(risk.daemon);
  const asOf = byId("as-of");
  asOf.textContent = timeOfDay(risk.as_of);
  asOf.dateTime = risk.as_of;
  asOf.title = `the engine's time (latest event): ${risk.as_of}`;
  byId("journal-seq").textContent = String(risk.daemon.journal_seq);
}

/** Running, paused (seed 003's system pause) or halted (an operator's emergency halt). */
function renderTradingState(risk) {
  const element = byId("paused-state");
  if (risk.paused) {
    setBadge(element, "PAUSED", "warn", risk.pause_reason ?? "");
    element.dataset.state = "paused";
  } else if (risk.halts.length > 0) {
    setBadge(element, "HALTED", "warn", risk.halts.map((halt) => `${halt.scope}: ${halt.reason}`).join("; "));
    element.dataset.state = "halted";
  } else {
    setBadge(element, "running", "ok");
    element.dataset.state = "running";
  }
}

function renderDaemonState(daemon) {
  const element = byId("daemon-state");
  if (daemon.fatal) setBadge(element, `stopped: ${daemon.fatal}`, "alarm");
  else if (!daemon.connected) setBadge(element, `${daemon.venue}: disconnected`, "alarm", "no new risk is approved while the venue cannot be seen");
  else if (!daemon.ready) setBadge(element, `${daemon.venue}: reconciling`, "warn", "the start-up reconciliation has not finished");
  else setBadge(element, `${daemon.venue}: connected`, "ok");
}

export function renderWebSocketState(live) {
  const element = byId("ws-state");
  if (live) setBadge(element, "live", "ok", "updates arrive over the WebSocket");
  else setBadge(element, "stale · polling", "warn", "the WebSocket is down: the page reads /api/risk every 5 s");
  element.dataset.state = live ? "live" : "stale";
}

/** The one line that says "act now", in red only for what needs a human at once. */
export function renderBanner(risk) {
  const messages = [];
  if (risk.daemon.fatal) messages.push(["alarm", `The daemon stopped: ${risk.daemon.fatal}`]);
  if (risk.kill_switch_active) {
    messages.push(["alarm", `Drawdown kill switch tripped at ${dateTime(risk.kill_switch_triggered_at)}: trading is halted until a reset.`]);
  }
  if (risk.daily_loss_halt) messages.push(["warn", `Daily-loss halt for ${risk.daily_date ?? "today"}: it clears at the day's reset.`]);
  for (const halt of risk.halts) {
    messages.push(["warn", `Emergency halt (${halt.scope}) since ${timeOfDay(halt.since)} by ${halt.by}: ${halt.reason}. No new risk until a resume.`]);
  }
  if (risk.paused) messages.push(["warn", `Paused: ${risk.pause_reason ?? "no reason given"}. No new risk until a resume.`]);
  const banner = byId("banner");
  banner.hidden = messages.length === 0;
  banner.className = `banner ${messages.some(([tone]) => tone === "alarm") ? "banner-alarm" : "banner-warn"}`;
  fill(banner, messages.map(([, text]) => h("div", { text })));
}

// ---- kill switch and operations ---------------------------------------------------------------

export function renderControls(risk, canEdit) {
  const state = byId("kill-switch-state");
  const configured = risk.limits.max_drawdown !== null;
  state.dataset.state = risk.kill_switch_active ? "active" : "inactive";
  if (risk.kill_switch_active) setBadge(state, "TRIPPED", "alarm");
  else setBadge(state, configured ? "armed" : "not configured", configured ? "ok" : "quiet");
  state.classList.add("kill-switch-state");
  byId("kill-switch-triggered-at").textContent = risk.kill_switch_active
    ? `tripped at ${dateTime(risk.kill_switch_triggered_at)}`
    : configured
      ? `trips at ${risk.limits.max_drawdown} % below the high-water mark`
      : "";
  byId("pause-detail").textContent = risk.paused ? `Paused: ${risk.pause_reason ?? "no reason given"}` : "Running";
  byId("kill-switch-reset").disabled = !canEdit || !risk.kill_switch_active;
  byId("pause-button").disabled = !canEdit || risk.paused;
  byId("resume-button").disabled = !canEdit || (!risk.paused && risk.halts.length === 0);
  byId("halt-button").disabled = !canEdit;
  byId("controls-note").hidden = canEdit;
  renderHalts(risk.halts);
}

function renderHalts(halts) {
  const list = byId("halts");
  if (halts.length === 0) {
    fill(list, h("li", { class: "muted", text: "none" }));
    return;
  }
  fill(
    list,
    halts.map((halt) =>
      h("li", { "data-testid": "halt-row" }, badge("HALTED", "warn"), ` ${halt.scope} since ${timeOfDay(halt.since)} by ${halt.by}: ${halt.reason}`),
    ),
  );
}

// ---- accounts: figures, gauges, equity curve -----------------------------------------------------

function dailyLossGauge(id, summary, limits) {
  const daily = limits.daily_loss;
  const currency = summary.currency;
  let fraction = null;
  let caption = "no daily loss limit configured";
  if (daily?.limit) {
    fraction = shareOfLimit(summary.daily_realized_pnl, daily.limit);
    caption = `halts at ${daily.limit} ${currency}`;
  } else if (daily?.limit_pct && summary.daily_start_equity) {
    const limitAmount = (parseFloat(summary.daily_start_equity) * parseFloat(daily.limit_pct)) / 100; // geometry only
    fraction = shareOfLimit(summary.daily_realized_pnl, String(-limitAmount));
    caption = `halts at −${daily.limit_pct} % of the day's start`;
  }
  return gauge({ testId: `gauge-daily-loss-${id}`, title: "Day's realized PnL", valueText: money(summary.daily_realized_pnl, currency), caption, fraction });
}

function accountGauges(id, summary, limits) {
  return h(
    "div",
    { class: "gauges" },
    gauge({
      testId: `gauge-drawdown-${id}`,
      title: "Drawdown",
      valueText: percent(summary.drawdown_pct),
      caption: limits.max_drawdown === null ? "no drawdown limit configured" : `kill switch at ${limits.max_drawdown} %`,
      fraction: shareOfLimit(summary.drawdown_pct, limits.max_drawdown),
    }),
    dailyLossGauge(id, summary, limits),
    gauge({
      testId: `gauge-per-trade-${id}`,
      title: "Per-trade risk",
      valueText: percent(summary.current_per_trade_risk),
      caption: limits.per_trade === null ? "no per-trade cap configured" : `cap ${limits.per_trade} % of equity`,
      fraction: shareOfLimit(summary.current_per_trade_risk, limits.per_trade),
    }),
  );
}

function figure(label, value, testId, extraClass = "") {
  return h("div", { class: "figure" }, h("dt", { text: label }), h("dd", { class: extraClass, "data-testid": testId, text: value }));
}

function accountFigures(id, summary) {
  const currency = summary.currency;
  return h(
    "dl",
    { class: "figures" },
    figure("Equity", money(summary.equity, currency), `equity-${id}`, "strong"),
    figure("Balance", money(summary.balance, currency), `balance-${id}`),
    figure("High-water mark", money(summary.high_water_mark, currency), `hwm-${id}`),
    figure("Day's start", money(summary.daily_start_equity, currency), `daily-start-${id}`),
    figure("Margin used", money(summary.margin_used, currency), `margin-${id}`),
    figure("Open positions", String(summary.open_positions), `account-positions-${id}`),
  );
}

function accountBadges(summary) {
  return [
    summary.kill_switch_active ? badge(`kill switch tripped ${timeOfDay(summary.kill_switch_triggered_at)}`, "alarm") : null,
    summary.daily_loss_halt ? badge("daily-loss halt", "warn") : null,
    summary.can_trade === false ? badge("venue: cannot trade", "warn") : null,
    summary.network ? badge(summary.network, "quiet") : null,
  ];
}

function accountCard(id, summary, limits, equityPoints) {
  return h(
    "article",
    { class: `card account-card${summary.kill_switch_active ? " card-alarm" : ""}`, "data-testid": `account-card-${id}` },
    h("header", { class: "card-header" }, h("h3", { text: id }), h("span", { class: "muted", text: summary.currency }), accountBadges(summary)),
    accountFigures(id, summary),
    accountGauges(id, summary, limits),
    equityChart({ testId: `equity-chart-${id}`, points: equityPoints ?? [], currency: summary.currency }),
    h("p", { class: "muted small", text: `reported ${dateTime(summary.reported_at)}` }),
  );
}

/** The stored curve plus the reading of this payload, so the line runs up to its time. */
function curveUntilNow(history, summary, generatedAt) {
  const points = history ?? [];
  const last = points[points.length - 1];
  if (summary.equity === null || (last && Date.parse(generatedAt) <= Date.parse(last.t))) return points;
  return [...points, { t: generatedAt, equity: summary.equity, hwm: summary.high_water_mark }];
}

export function renderAccounts(risk, equityHistory) {
  fillPanel("accounts", Object.keys(risk.account), "No account has been reported yet.", (ids) =>
    ids.map((id) => {
      const summary = risk.account[id];
      return accountCard(id, summary, risk.limits, curveUntilNow(equityHistory[id], summary, risk.generated_at));
    }),
  );
}

// ---- positions, lockouts, headroom ------------------------------------------------------------

export function renderPositions(risk) {
  fill(
    byId("position-counts"),
    h("span", { "data-testid": "open-positions-live" }, h("strong", { text: String(risk.open_positions) }), " live"),
    h("span", { "data-testid": "open-positions-paper" }, h("strong", { text: String(risk.open_positions_paper) }), " paper"),
  );
  fillPanel("positions", risk.positions, "No open positions.", (positions) =>
    table(["Account", "Strategy", "Symbol", "Net qty", "Avg entry", "Unrealized", ""], positions.map(positionRow)),
  );
}

function positionRow(position) {
  return h(
    "tr",
    { "data-testid": `position-row-${position.account}-${position.symbol}` },
    h("td", { text: position.account }),
    h("td", { text: position.strategy }),
    h("td", { text: position.symbol }),
    h("td", { class: "num", text: position.net_qty }),
    h("td", { class: "num", text: position.avg_entry_price }),
    h("td", { class: `num${isNegative(position.unrealized_pnl) ? " negative" : ""}`, text: money(position.unrealized_pnl, position.currency) }),
    h("td", {}, badge(position.paper ? "paper" : "live", position.paper ? "quiet" : "live")),
  );
}

export function renderLockouts(risk) {
  fillPanel("lockouts", risk.lockouts, "No lockouts in force.", (lockouts) =>
    table(["Rule", "Scope", "Ends", "Left", "Why"], lockouts.map(lockoutRow)),
  );
  tickCountdowns();
}

function lockoutRow(lockout) {
  return h(
    "tr",
    { "data-testid": `lockout-row-${lockout.rule}` },
    h("td", { class: "strong", text: lockout.rule }),
    h("td", { text: lockout.scope }),
    h("td", { text: lockout.until ? timeOfDay(lockout.until) : "until reset" }),
    h("td", { class: "num countdown", "data-until": lockout.until ?? "", text: lockout.until ? "" : "—" }),
    h("td", { class: "reason", text: lockout.reason }),
  );
}

let serverClockOffsetMs = 0; // daemon time minus this browser's time, from the latest payload

export function noteServerTime(generatedAt) {
  const serverMs = Date.parse(generatedAt);
  if (Number.isFinite(serverMs)) serverClockOffsetMs = serverMs - Date.now();
}

/** Update every lockout countdown; called each second and after each render. */
export function tickCountdowns() {
  const now = Date.now() + serverClockOffsetMs;
  for (const cell of document.querySelectorAll(".countdown[data-until]")) {
    const until = Date.parse(cell.dataset.until);
    if (Number.isFinite(until)) cell.textContent = duration(until - now);
  }
}

export function renderHeadroom(risk) {
  fillPanel("headroom", risk.headroom, "No limit reports its headroom.", (rows) =>
    h("div", { class: "headroom-list" }, rows.map(headroomRow)),
  );
}

function headroomRow(row) {
  const share = parseFloat(row.used_pct) / 100; // geometry only
  const tone = toneOf(Number.isFinite(share) ? share : null);
  return h(
    "div",
    { class: `headroom-row tone-${tone}`, "data-testid": `headroom-${row.rule}`, "data-tone": tone },
    h("div", { class: "headroom-label" }, h("span", { class: "strong", text: row.label }), h("span", { class: "muted", text: ` · ${row.scope}` })),
    h("div", { class: "bar" }, h("div", { class: "bar-fill", style: `width: ${Math.min(Math.max(share * 100, 0), 100).toFixed(1)}%` })),
    h("div", { class: "headroom-figures num", text: `${row.value} of ${row.limit} ${row.unit} · ${row.used_pct} %` }),
  );
}

// ---- circuit breakers and recovery --------------------------------------------------------------

const BREAKER_TONES = { CLOSED: "ok", HALF_OPEN: "warn", OPEN: "alarm" };

export function renderBreakers(risk) {
  fillPanel("circuit-breakers", risk.circuit_breakers, "No circuit breakers.", (breakers) =>
    table(["Breaker", "State", "Failures", "Trips", "Timeout"], breakers.map(breakerRow)),
  );
}

function breakerRow(breaker) {
  return h(
    "tr",
    { "data-testid": `breaker-${breaker.name}` },
    h("td", { class: "strong", text: breaker.name }),
    h("td", {}, badge(breaker.state, BREAKER_TONES[breaker.state] ?? "quiet")),
    h("td", { class: "num", text: `${breaker.failures} / ${breaker.threshold}` }),
    h("td", { class: "num", text: String(breaker.trips) }),
    h("td", { class: "num", text: breaker.state === "OPEN" ? `half-open in ${Math.ceil(breaker.seconds_until_half_open)} s` : `${breaker.timeout_seconds} s` }),
  );
}

export function renderRecovery(risk) {
  const networks = new Set(Object.values(risk.account).map((summary) => summary.network).filter(Boolean));
  const networkMismatch = risk.recovery_network !== null && networks.size > 0 && !networks.has(risk.recovery_network);
  const discrepancies = risk.recovery_discrepancy_count;
  fill(
    byId("recovery"),
    h(
      "dl",
      { class: "figures" },
      figure("Status", risk.recovery_active ? `${risk.recovery_status} (running)` : risk.recovery_status, "recovery-status"),
      figure("Positions compared", String(risk.recovery_position_count), "recovery-positions"),
      figure("Discrepancies", String(discrepancies), "recovery-discrepancies", discrepancies > 0 ? "text-warn" : ""),
      figure("Last run", dateTime(risk.recovery_at), "recovery-at"),
      figure("Batch", decimalText(risk.recovery_batch_id), "recovery-batch"),
      figure("Network", decimalText(risk.recovery_network), "recovery-network", networkMismatch ? "text-warn" : ""),
    ),
  );
}

// ---- enforcement log and alerts -------------------------------------------------------------------

const ACTION_STATUS_TONES = { failed: "alarm", pending: "warn", running: "warn", retrying: "warn" };

export function renderActionLog(actions) {
  fillPanel("action-log", actions, "No enforcement actions yet.", (rows) =>
    table(["Time", "Rule", "Action", "Status", "Why"], rows.map(actionRow), { class: "compact" }),
  );
}

function actionRow(action) {
  return h(
    "tr",
    { "data-testid": "action-row", "data-action-id": action.id },
    h("td", { class: "nowrap", text: timeOfDay(action.updated_at) }),
    h("td", { class: "strong", text: action.rule }),
    h("td", { text: action.name }),
    h("td", {}, badge(action.status, ACTION_STATUS_TONES[action.status] ?? "quiet")),
    h("td", { class: "reason", text: action.last_error ? `${action.body?.reason ?? ""} — ${action.last_error}` : (action.body?.reason ?? "") }),
  );
}

const ALERT_TONES = { critical: "alarm", warning: "warn", info: "quiet" };

export function renderAlerts(alerts) {
  fillPanel("alerts", alerts, "No alerts.", (rows) => h("ul", { class: "alert-list" }, rows.map(alertRow)));
}

function alertRow(alert) {
  return h(
    "li",
    { class: `alert alert-${alert.level}`, "data-testid": "alert-row", "data-level": alert.level },
    badge(alert.level, ALERT_TONES[alert.level] ?? "quiet"),
    h("span", { class: "strong", text: ` ${alert.rule}` }),
    alert.account ? h("span", { class: "muted", text: ` · ${alert.account}` }) : null,
    h("div", { class: "reason", text: alert.reason }),
  );
}
