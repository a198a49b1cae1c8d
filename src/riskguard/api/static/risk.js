// The /risk page: signs in (session.js), reads the daemon's API, keeps itself current over the WebSocket (or
// by polling while the socket is down), and sends the operator's confirmed actions.
//
// Data flow: every source of data (first load, poll, WebSocket message) goes through one of the
// apply* functions, which store it in `page` and redraw the panels that show it.

import { confirmAction } from "./confirm-dialog.js";
import { showText } from "./dom.js";
import { ApiError, getJson, postJson, requestJson } from "./http.js";
import { LiveFeed } from "./live.js";
import * as panels from "./panels.js";
import { createSession } from "./session.js";
import { daemonStrategyUrls, renderStrategyTable, strategyApi } from "./strategy-table.js";

const POLL_MS = 5000; // while the WebSocket is down
const ACTIONS_SHOWN = 50;
const ALERTS_SHOWN = 200;
const EQUITY_POINTS_KEPT = 5000; // per account; older points drop off the curve
const OPS_MESSAGE_MS = 8000;

const page = {
  risk: null, // the latest RiskPayload
  strategies: [],
  actions: [], // newest first
  alerts: [], // newest first
  equity: {}, // account -> [{t, equity, hwm}], oldest first
  live: false, // the WebSocket is up and the daemon said hello
  feed: null,
  pollTimer: null,
};

// the login form until someone signs in, then the dashboard
const session = createSession({
  onSignedIn: showDashboard,
  onSignedOut: stopUpdates,
  canSignOut: (user) => user !== null && user.via !== "token", // a token is not a session to end
});
const { callApi } = session;

const byId = (id) => document.getElementById(id);
const canEdit = () => session.user?.role === "admin";
const strategyCalls = strategyApi(daemonStrategyUrls, (method, url, body) => callApi(() => requestJson(method, url, body)));

// ---- the dashboard ------------------------------------------------------------------------------

function showDashboard() {
  showRole();
  renderStrategies();
  loadEverything();
  startUpdates();
}

/** What the signed-in user may press: the admin-only controls stay disabled for anyone else. */
function showRole() {
  for (const control of document.querySelectorAll("[data-admin-only]")) {
    if (!canEdit()) control.disabled = true; // renderControls enables what the state allows
  }
  if (page.risk) panels.renderControls(page.risk, canEdit());
}

function showPageError(message) {
  showText(byId("page-error"), message);
}

async function loadEverything() {
  await Promise.all([refreshRisk(), refreshStrategies(), refreshActions(), refreshAlerts(), loadEquity()]);
}

function reportLoadError(error) {
  if (!(error instanceof ApiError) || error.status !== 401) showPageError(`Could not read the daemon: ${error.message}`);
}

async function refreshRisk() {
  try {
    applyRisk(await callApi(() => getJson("/api/risk")));
    showPageError("");
  } catch (error) {
    reportLoadError(error);
  }
}

async function refreshStrategies() {
  try {
    applyStrategies(await callApi(() => getJson("/api/strategies")));
  } catch (error) {
    reportLoadError(error);
  }
}

async function refreshActions() {
  try {
    page.actions = await callApi(() => getJson(`/api/actions?limit=${ACTIONS_SHOWN}`));
    panels.renderActionLog(page.actions);
  } catch (error) {
    reportLoadError(error);
  }
}

async function refreshAlerts() {
  try {
    page.alerts = (await callApi(() => getJson("/api/alerts"))).slice(0, ALERTS_SHOWN);
    panels.renderAlerts(page.alerts);
  } catch (error) {
    reportLoadError(error);
  }
}

async function loadEquity() {
  let history = {};
  try {
    history = await callApi(() => getJson("/api/equity"));
  } catch (error) {
    if (error.status !== 404) reportLoadError(error); // 404: a daemon without the history; the curve starts now
  }
  for (const [account, points] of Object.entries(history ?? {})) {
    const loadedUntil = points.length ? Date.parse(points[points.length - 1].t) : -Infinity;
    const later = (page.equity[account] ?? []).filter((point) => Date.parse(point.t) > loadedUntil);
    page.equity[account] = [...points, ...later].slice(-EQUITY_POINTS_KEPT);
  }
  if (page.risk) panels.renderAccounts(page.risk, page.equity);
}

// ---- applying what arrives --------------------------------------------------------------------

function applyRisk(risk) {
  page.risk = risk;
  panels.noteServerTime(risk.generated_at);
  appendEquityPoints(risk);
  panels.renderHeader(risk);
  panels.renderBanner(risk);
  panels.renderControls(risk, canEdit());
  panels.renderAccounts(risk, page.equity);
  panels.renderPositions(risk);
  panels.renderLockouts(risk);
  panels.renderHeadroom(risk);
  panels.renderBreakers(risk);
  panels.renderRecovery(risk);
}

/**
 * Each risk payload is a reading of every account's equity. As the daemon's own history does,
 * keep a point only when the equity or the high-water mark moved; the chart draws the latest
 * reading up to the payload's time, so a flat stretch still reaches "now".
 */
function appendEquityPoints(risk) {
  for (const [account, summary] of Object.entries(risk.account)) {
    if (summary.equity === null) continue;
    const series = (page.equity[account] ??= []);
    const last = series[series.length - 1];
    if (last && last.equity === summary.equity && last.hwm === summary.high_water_mark) continue;
    if (last && Date.parse(risk.generated_at) <= Date.parse(last.t)) continue; // older than what we have
    series.push({ t: risk.generated_at, equity: summary.equity, hwm: summary.high_water_mark });
    if (series.length > EQUITY_POINTS_KEPT) series.splice(0, series.length - EQUITY_POINTS_KEPT);
  }
}

function applyStrategies(rows) {
  page.strategies = rows;
  renderStrategies();
}

function renderStrategies() {
  renderStrategyTable(byId("strategy-table"), page.strategies, {
    api: strategyCalls,
    canEdit: canEdit(),
    showSource: false,
    onChange: () => page.live || refreshStrategies(), // the WebSocket brings the change when it is up
  });
}

/** Newest first, one row per id: an action's later status replaces its earlier one. */
function mergeNewest(rows, row, limit) {
  return [row, ...rows.filter((existing) => existing.id !== row.id)].slice(0, limit);
}

function applySettingsNote({ actor, reason, rules, strategy }) {
  const what = strategy ? `strategy ${strategy.strategy_id}/${strategy.symbol}` : `rules ${(rules ?? []).join(", ")}`;
  const note = byId("settings-note");
  note.textContent = `Settings changed by ${actor}: ${what} — ${reason}`;
  note.hidden = false;
}

const MESSAGE_HANDLERS = {
  hello: (data) => {
    session.setUser({ ...session.user, username: data.username, role: data.role });
    showRole();
    renderStrategies();
  },
  risk: applyRisk,
  strategies: applyStrategies,
  action: (row) => {
    page.actions = mergeNewest(page.actions, row, ACTIONS_SHOWN);
    panels.renderActionLog(page.actions);
  },
  action_status: ({ id, ...progress }) => {
    // an action's execution moved on (done, failed after retries): update its row in place
    page.actions = page.actions.map((row) => (row.id === id ? { ...row, ...progress } : row));
    panels.renderActionLog(page.actions);
  },
  alert: (row) => {
    page.alerts = mergeNewest(page.alerts, row, ALERTS_SHOWN);
    panels.renderAlerts(page.alerts);
  },
  settings: applySettingsNote,
};

// ---- live updates and polling ----------------------------------------------------------------

function setLive(live) {
  const wasLive = page.live;
  page.live = live;
  panels.renderWebSocketState(live);
  if (wasLive && !live && page.feed) loadEverything(); // the socket dropped: catch up now, not in 5 s
}

function startUpdates() {
  stopUpdates();
  page.feed = new LiveFeed({
    onMessage: (message) => MESSAGE_HANDLERS[message.type]?.(message.data),
    onStatus: setLive,
    onAuthLost: session.verifySession, // the WebSocket was refused: has the session ended?
  });
  page.feed.start();
  page.pollTimer = setInterval(() => {
    if (!page.live) {
      refreshRisk();
      refreshStrategies();
      refreshActions();
      refreshAlerts();
    }
  }, POLL_MS);
  panels.renderWebSocketState(false);
}

function stopUpdates() {
  clearInterval(page.pollTimer);
  page.pollTimer = null;
  const feed = page.feed;
  page.feed = null;
  page.live = false; // first, so the feed's last "not live" does not trigger a catch-up load
  feed?.stop();
}

// ---- operator actions -------------------------------------------------------------------------

let opsMessageTimer = null;

/** A short note under the buttons saying the last operation went through; it fades after a while. */
function showOpsMessage(text) {
  clearTimeout(opsMessageTimer);
  byId("ops-message").textContent = text;
  opsMessageTimer = setTimeout(() => (byId("ops-message").textContent = ""), OPS_MESSAGE_MS);
}

/** POST an operation, then show its outcome; the WebSocket (or this refresh) shows the new state. */
async function runOperation(url, body, doneText) {
  await callApi(() => postJson(url, body));
  showOpsMessage(doneText);
  await refreshRisk();
}

function resetKillSwitch() {
  return confirmAction({
    title: "Reset the drawdown kill switch?",
    message:
      "Trading may start again, and the high-water mark is re-based to the equity now: the next trip is measured " +
      "from here, not from the old peak. Reset only once you know why the drawdown happened.",
    confirmLabel: "Reset kill switch",
    run: ({ reason }) => runOperation("/api/ops/reset-kill-switch", { confirm: true, reason }, "Kill switch reset."),
  });
}

function pause() {
  return confirmAction({
    title: "Pause the system?",
    message: "No new risk is approved until someone resumes. Open positions and their stops stay as they are.",
    confirmLabel: "Pause",
    danger: false,
    run: ({ reason }) => runOperation("/api/ops/pause", { reason }, "Paused."),
  });
}

function resume() {
  return confirmAction({
    title: "Resume trading?",
    message: "Lifts the pause and every halt. The other limits (lockouts, kill switches) still apply.",
    confirmLabel: "Resume",
    danger: false,
    run: ({ reason }) => runOperation("/api/ops/resume", { reason }, "Resumed."),
  });
}

function emergencyHalt() {
  return confirmAction({
    title: "Emergency halt?",
    message: "No new risk on any account until a resume; every working order is cancelled.",
    confirmLabel: "Halt trading",
    checkboxLabel: "also close all positions",
    run: ({ reason, checked }) =>
      runOperation("/api/ops/halt", { confirm: true, reason, cancel_orders: true, flatten: checked }, "Halted."),
  });
}

// ---- start --------------------------------------------------------------------------------------

function wireControls() {
  byId("kill-switch-reset").addEventListener("click", resetKillSwitch);
  byId("pause-button").addEventListener("click", pause);
  byId("resume-button").addEventListener("click", resume);
  byId("halt-button").addEventListener("click", emergencyHalt);
}

wireControls();
setInterval(panels.tickCountdowns, 1000);
session.checkSession();
