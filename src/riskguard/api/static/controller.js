// The controller's page: signs in (session.js), then every few seconds reads each daemon's state
// (GET /api/risk/sources) and every strategy row (GET /api/risk/strategies), and shows one card
// per daemon above seed 000's strategy table with a Source column. Edits go through the
// controller (PUT /api/risk/{source}/{strategy_id}/{symbol} and friends), which sends each to
// the daemon that keeps the row.

import { h, fill, emptyNote, showText } from "./dom.js";
import { timeOfDay } from "./format.js";
import { ApiError, getJson, requestJson } from "./http.js";
import { createSession } from "./session.js";
import { controllerStrategyUrls, renderStrategyTable, strategyApi } from "./strategy-table.js";

const POLL_MS = 3000;

const page = {
  sources: [], // GET /api/risk/sources
  strategies: [], // the rows of GET /api/risk/strategies
  pollTimer: null,
  polling: false,
  reading: false, // a poll is under way
  readAgain: false, // a change was made during it: read again as soon as it ends
};

// the login form until someone signs in, then the dashboard
const session = createSession({ onSignedIn: showDashboard, onSignedOut: stopPolling });
const { callApi } = session;

const byId = (id) => document.getElementById(id);
const canEdit = () => session.user?.role === "admin";
const strategyCalls = strategyApi(controllerStrategyUrls, (method, url, body) =>
  callApi(() => requestJson(method, url, body)),
);

// ---- reading -------------------------------------------------------------------------------------

function showDashboard() {
  renderStrategies();
  startPolling();
}

function startPolling() {
  stopPolling();
  page.polling = true;
  poll();
}

function stopPolling() {
  page.polling = false;
  clearTimeout(page.pollTimer);
  page.pollTimer = null;
}

/** One read of both endpoints, then the next one POLL_MS later (never two under way at once). */
async function poll() {
  if (page.reading) {
    page.readAgain = true;
    return;
  }
  clearTimeout(page.pollTimer);
  page.reading = true;
  try {
    const [sources, strategies] = await Promise.all([
      callApi(() => getJson("/api/risk/sources")),
      callApi(() => getJson("/api/risk/strategies")),
    ]);
    page.sources = sources;
    page.strategies = strategies.strategies;
    renderSources();
    renderStrategies();
    byId("updated-at").textContent = timeOfDay(new Date().toISOString());
    showPageError("");
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) showPageError(`Could not read the controller: ${error.message}`);
  } finally {
    page.reading = false;
  }
  if (!page.polling) return;
  const again = page.readAgain;
  page.readAgain = false;
  page.pollTimer = setTimeout(poll, again ? 0 : POLL_MS);
}

function showPageError(message) {
  showText(byId("page-error"), message);
}

// ---- drawing -------------------------------------------------------------------------------------

function flag(testId, on, onText, offText) {
  if (on === null || on === undefined) return h("span", { class: "badge badge-quiet", "data-testid": testId, text: "—" });
  return h("span", { class: `badge ${on ? "badge-alarm" : "badge-ok"}`, "data-testid": testId, text: on ? onText : offText });
}

function figure(label, value) {
  return h("div", {}, h("div", { class: "label", text: label }), value);
}

function sourceCard(source) {
  const id = (part) => `source-${part}-${source.name}`;
  const alarm = !source.up || source.kill_switch_active || source.daily_loss_halt;
  return h(
    "section",
    { class: alarm ? "card card-alarm" : "card", "data-testid": id("card") },
    h(
      "div",
      { class: "card-header" },
      h("h3", { class: "strong", text: source.name }),
      h("span", {
        class: `badge ${source.up ? "badge-ok" : "badge-alarm"}`,
        "data-testid": id("state"),
        text: source.up ? "Up" : "Down",
      }),
      h("span", { class: "muted small", text: source.url }),
    ),
    source.up ? null : h("p", { class: "form-error small", role: "alert", "data-testid": id("error"), text: source.error }),
    h(
      "div",
      { class: "figures" },
      figure("Kill switch", flag(id("kill-switch"), source.kill_switch_active, "TRIPPED", "Armed")),
      figure("Daily-loss halt", flag(id("daily-loss-halt"), source.daily_loss_halt, "HALTED", "Off")),
      figure("System", flag(id("paused"), source.paused, "Paused", "Running")),
      figure("Checked", h("span", { class: "muted", text: timeOfDay(source.checked_at) })),
    ),
  );
}

function renderSources() {
  const down = page.sources.filter((source) => !source.up);
  fill(byId("sources"), page.sources.length ? page.sources.map(sourceCard) : emptyNote("No daemons are configured."));
  const state = byId("sources-state");
  state.textContent = `${page.sources.length - down.length} of ${page.sources.length} daemons up`;
  state.className = `badge ${down.length ? "badge-alarm" : "badge-ok"}`;
  const banner = byId("banner");
  banner.textContent = down.length
    ? `Not answering: ${down.map((source) => source.name).join(", ")}. ` +
      "Their strategies are missing from the table until they answer again."
    : "";
  banner.hidden = down.length === 0;
}

function renderStrategies() {
  renderStrategyTable(byId("strategy-table"), page.strategies, {
    api: strategyCalls,
    canEdit: canEdit(),
    showSource: true,
    onChange: () => {
      if (page.polling) poll(); // read back at once: the daemon's rows as they are now
    },
  });
}

// ---- start ---------------------------------------------------------------------------------------

session.checkSession();
