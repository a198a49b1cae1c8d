/**
 * Seed 000's editable strategy table, shared by the daemon's /risk page and the controller's page.
 *
 * renderStrategyTable(container, rows, options)
 *   Builds the table inside `container` on the first call; later calls update it in place, so call
 *   it again with every fresh list of rows (a WebSocket "strategies" message, a poll). A value the
 *   operator has typed and not saved is kept through any number of updates; so is an error message.
 *
 *   rows     StrategyRow objects as GET /api/strategies answers them: {strategy_id, symbol,
 *            enabled, risk_per_trade, stop_loss_dollars, max_strategy_loss, is_killed, total_pnl,
 *            model_reward}, decimals as strings, plus `source` when options.showSource is true.
 *   options  {
 *     api:        {saveSettings(row, changes), setEnabled(row, enabled), resetKillSwitch(row, reason)},
 *                 each returning a Promise of the row after the change (anything that is not a row
 *                 is fine too: the table then waits for the next render) and rejecting with an
 *                 Error whose message is shown next to the row. `changes` holds only the edited
 *                 fields, values as the strings typed. strategyApi(urls) builds such an object.
 *     canEdit:    false disables every input, toggle and button (a viewer).
 *     showSource: true adds a first "Source" column; `source` is then part of a row's identity.
 *     onChange:   optional; called with the API's answer after each successful change.
 *   }
 *
 * strategyApi(urls, request = requestJson) -> api
 *   urls: {settings(row), enable(row), disable(row), resetKillSwitch(row)}, each giving a URL.
 *   daemonStrategyUrls      PUT /api/strategies/{strategy_id}/{symbol}/settings, POST …/enable, …
 *   controllerStrategyUrls  PUT /api/risk/{source}/{strategy_id}/{symbol}, POST …/enable, …
 *   request(method, url, body) must reject with an Error carrying a readable message (http.js's
 *   requestJson turns FastAPI's {"detail": …} into one).
 *
 * Test ids: each row is data-testid="strategy-row-<id>", <id> being "<strategy_id>-<symbol>" or,
 * with showSource, "<source>-<strategy_id>-<symbol>". Inside it: strategy-input-<id>-<field>,
 * strategy-enabled-<id>, strategy-save-<id>, strategy-status-<id>, strategy-reset-<id>,
 * strategy-pnl-<id>, strategy-message-<id>.
 */

import { confirmAction } from "./confirm-dialog.js";
import { h, emptyNote } from "./dom.js";
import { decimalText, isNegative } from "./format.js";
import { requestJson, segment } from "./http.js";

export { renderStrategyTable, strategyApi, daemonStrategyUrls, controllerStrategyUrls };

/** The settings edited inline, in column order. */
const EDITABLE_FIELDS = [
  { field: "risk_per_trade", label: "Risk/trade (%)" },
  { field: "stop_loss_dollars", label: "Stop loss ($)" },
  { field: "max_strategy_loss", label: "Max DD ($)" },
];

const SAVED_NOTE_MS = 4000; // how long "Saved" stays next to a row

// ---- the API ---------------------------------------------------------------------------------

function strategyApi(urls, request = requestJson) {
  return {
    saveSettings: (row, changes) => request("PUT", urls.settings(row), changes),
    setEnabled: (row, enabled) => request("POST", enabled ? urls.enable(row) : urls.disable(row)),
    resetKillSwitch: (row, reason) => request("POST", urls.resetKillSwitch(row), { confirm: true, reason }),
  };
}

const daemonPath = (row) => `/api/strategies/${segment(row.strategy_id)}/${segment(row.symbol)}`;

const daemonStrategyUrls = {
  settings: (row) => `${daemonPath(row)}/settings`,
  enable: (row) => `${daemonPath(row)}/enable`,
  disable: (row) => `${daemonPath(row)}/disable`,
  resetKillSwitch: (row) => `${daemonPath(row)}/reset-kill-switch`,
};

const controllerPath = (row) =>
  `/api/risk/${segment(row.source)}/${segment(row.strategy_id)}/${segment(row.symbol)}`;

const controllerStrategyUrls = {
  settings: (row) => controllerPath(row),
  enable: (row) => `${controllerPath(row)}/enable`,
  disable: (row) => `${controllerPath(row)}/disable`,
  resetKillSwitch: (row) => `${controllerPath(row)}/reset-kill-switch`,
};

// ---- the table -------------------------------------------------------------------------------

const tables = new WeakMap(); // container -> {showSource, tbody, empty, views: Map<key, RowView>}

function renderStrategyTable(container, rows, options) {
  const showSource = Boolean(options.showSource);
  let table = tables.get(container);
  if (!table || table.showSource !== showSource) {
    table = createTable(container, showSource);
    tables.set(container, table);
  }
  table.options = options;
  const wanted = new Map(rows.map((row) => [rowKey(row, showSource), row]));
  for (const [key, view] of table.views) {
    if (!wanted.has(key)) {
      view.element.remove();
      table.views.delete(key);
    }
  }
  let position = 0;
  for (const [key, row] of wanted) {
    let view = table.views.get(key);
    if (!view) {
      view = createRowView(row, showSource, () => table.options);
      table.views.set(key, view);
    }
    placeRow(table.tbody, view.element, position++);
    showServerRow(view, row);
  }
  for (const view of table.views.values()) applyPermissions(view, options.canEdit);
  table.empty.hidden = rows.length > 0;
}

function createTable(container, showSource) {
  const headers = [
    ...(showSource ? ["Source"] : []),
    "Strategy",
    "Symbol",
    "Enabled",
    ...EDITABLE_FIELDS.map(({ label }) => label),
    "Total PnL",
    "Reward",
    "Status",
    "",
  ];
  const tbody = h("tbody");
  const empty = emptyNote("No strategies have settings yet.");
  const element = h(
    "table",
    { class: "strategy-table" },
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col", text })))),
    tbody,
  );
  container.replaceChildren(h("div", { class: "table-scroll" }, element), empty);
  return { showSource, tbody, empty, views: new Map(), options: {} };
}

function identityParts(row, showSource) {
  return showSource ? [row.source, row.strategy_id, row.symbol] : [row.strategy_id, row.symbol];
}

/** A row's identity in the table ("-" may occur inside an id, so it is not the separator here). */
function rowKey(row, showSource) {
  return identityParts(row, showSource).join("\u0000");
}

/** A row's id in its test ids: "demo-MNQ". */
function rowTestId(row, showSource) {
  return identityParts(row, showSource).join("-");
}

/**
 * Put a row at `position`, moving it only when it is elsewhere: moving a row takes the keyboard
 * focus out of the input the operator is typing in.
 */
function placeRow(tbody, element, position) {
  const current = tbody.children[position] ?? null;
  if (current !== element) tbody.insertBefore(element, current);
}

// ---- one row ---------------------------------------------------------------------------------

/**
 * A row's elements and what it remembers: `row` is the server's latest row, `shown[field]` the
 * value the table last put in an input (an input whose value differs has been edited), `busy`
 * whether a request for this row is under way.
 */
function createRowView(row, showSource, currentOptions) {
  const id = rowTestId(row, showSource);
  const shown = Object.fromEntries(EDITABLE_FIELDS.map(({ field }) => [field, ""])); // as the empty inputs start
  const view = { id, row, shown, inputs: {}, busy: false, currentOptions, savedTimer: null };
  const testId = (part) => `strategy-${part}-${id}`;

  for (const { field, label } of EDITABLE_FIELDS) {
    view.inputs[field] = h("input", {
      type: "text",
      inputmode: "decimal",
      class: "number-input",
      "aria-label": `${label} of ${row.strategy_id} ${row.symbol}`,
      "data-testid": `${testId("input")}-${field}`,
      oninput: () => markEdits(view),
      onkeydown: (event) => event.key === "Enter" && saveRow(view),
    });
  }
  view.toggle = h("input", {
    type: "checkbox",
    role: "switch",
    class: "switch",
    "aria-label": `${row.strategy_id} ${row.symbol} enabled`,
    "data-testid": testId("enabled"),
    onchange: () => toggleEnabled(view),
  });
  view.saveButton = h("button", { type: "button", "data-testid": testId("save"), text: "Save", onclick: () => saveRow(view) });
  view.resetButton = h("button", {
    type: "button",
    class: "button-danger",
    "data-testid": testId("reset"),
    text: "Reset",
    onclick: () => resetKillSwitch(view),
  });
  view.status = h("span", { class: "badge", "data-testid": testId("status") });
  view.pnl = h("td", { class: "num", "data-testid": testId("pnl") });
  view.reward = h("td", { class: "num", "data-testid": testId("reward") });
  view.message = h("span", { class: "row-message", role: "status", "data-testid": testId("message") });
  view.element = h(
    "tr",
    { "data-testid": `strategy-row-${id}` },
    showSource ? h("td", { text: row.source }) : null,
    h("td", { class: "strong", text: row.strategy_id }),
    h("td", { text: row.symbol }),
    h("td", {}, view.toggle),
    EDITABLE_FIELDS.map(({ field }) => h("td", {}, view.inputs[field])),
    view.pnl,
    view.reward,
    h("td", {}, view.status),
    h("td", { class: "row-actions" }, view.saveButton, view.resetButton, view.message),
  );
  return view;
}

function isEdited(view, field) {
  return view.inputs[field].value !== view.shown[field];
}

function editedChanges(view) {
  const changes = {};
  for (const { field } of EDITABLE_FIELDS) {
    if (isEdited(view, field)) changes[field] = view.inputs[field].value.trim();
  }
  return changes;
}

/** Show the server's row, keeping whatever the operator has typed and not saved yet. */
function showServerRow(view, row) {
  view.row = row;
  for (const { field } of EDITABLE_FIELDS) {
    if (!isEdited(view, field)) {
      view.inputs[field].value = row[field] ?? "";
      view.shown[field] = view.inputs[field].value;
    }
  }
  if (!view.busy) view.toggle.checked = Boolean(row.enabled);
  view.pnl.textContent = decimalText(row.total_pnl);
  view.pnl.classList.toggle("negative", isNegative(row.total_pnl));
  view.reward.textContent = `R: ${decimalText(row.model_reward)}`;
  showStatus(view, row);
  markEdits(view);
}

function showStatus(view, row) {
  const [text, tone] = row.is_killed ? ["KILLED", "badge-alarm"] : row.enabled ? ["Active", "badge-ok"] : ["Disabled", "badge-quiet"];
  view.status.textContent = text;
  view.status.className = `badge ${tone}`;
  view.resetButton.hidden = !row.is_killed;
  view.element.classList.toggle("row-killed", Boolean(row.is_killed));
}

function applyPermissions(view, canEdit) {
  const locked = !canEdit || view.busy;
  for (const input of Object.values(view.inputs)) input.disabled = locked;
  view.toggle.disabled = locked;
  view.resetButton.disabled = locked;
  view.saveButton.disabled = locked || Object.keys(editedChanges(view)).length === 0;
}

/** Highlight the edited inputs and enable Save while there is something to save. */
function markEdits(view) {
  for (const { field } of EDITABLE_FIELDS) view.inputs[field].classList.toggle("edited", isEdited(view, field));
  applyPermissions(view, view.currentOptions().canEdit);
}

function showMessage(view, text, { error = false } = {}) {
  clearTimeout(view.savedTimer);
  view.message.textContent = text;
  view.message.classList.toggle("form-error", error);
  if (!error && text) view.savedTimer = setTimeout(() => showMessage(view, ""), SAVED_NOTE_MS);
}

/**
 * Run one request for the row: controls locked meanwhile, the answer shown, a refusal kept.
 * `savedFields` are the inputs the request saves: they follow the server again afterwards.
 */
async function runRowRequest(view, request, doneText, savedFields = []) {
  view.busy = true;
  markEdits(view);
  showMessage(view, "Saving…");
  try {
    const answer = await request();
    view.busy = false;
    acceptAnswer(view, answer, savedFields);
    showMessage(view, doneText);
    view.currentOptions().onChange?.(answer);
    return true;
  } catch (error) {
    view.busy = false;
    showMessage(view, error.message, { error: true });
    markEdits(view);
    throw error;
  }
}

/** After a success: the saved inputs count as unedited again, so they follow the server's row. */
function acceptAnswer(view, answer, savedFields) {
  const isRow = answer && typeof answer === "object" && "strategy_id" in answer;
  for (const field of savedFields) view.shown[field] = view.inputs[field].value;
  if (isRow) showServerRow(view, { ...view.row, ...answer });
  else markEdits(view);
}

async function saveRow(view) {
  const changes = editedChanges(view);
  if (view.busy || Object.keys(changes).length === 0) return;
  const { api } = view.currentOptions();
  const save = () => api.saveSettings(view.row, changes);
  await runRowRequest(view, save, "Saved", Object.keys(changes)).catch(() => {}); // the message shows the refusal
}

async function toggleEnabled(view) {
  const enabled = view.toggle.checked;
  const { api } = view.currentOptions();
  try {
    await runRowRequest(view, () => api.setEnabled(view.row, enabled), enabled ? "Enabled" : "Disabled");
  } catch {
    view.toggle.checked = !enabled; // the daemon refused: show the state it still has
  }
}

function resetKillSwitch(view) {
  const { row } = view;
  const { api } = view.currentOptions();
  return confirmAction({
    title: `Reset the kill switch of ${row.strategy_id} on ${row.symbol}?`,
    message:
      `Its total PnL (${decimalText(row.total_pnl)}) goes back to 0 and it may open new positions again. ` +
      "Reset only once you know why it lost its maximum.",
    confirmLabel: "Reset kill switch",
    run: ({ reason }) => runRowRequest(view, () => api.resetKillSwitch(view.row, reason), "Kill switch reset"),
  });
}
