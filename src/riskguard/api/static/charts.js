// The page's drawings, as inline SVG: semicircle gauges and the equity curve. Numbers are parsed
// with parseFloat here and only here, for geometry; every figure written on the page is the
// daemon's own string.

import { h, svg } from "./dom.js";
import { timeOfDay } from "./format.js";

const WARN_FROM = 0.75; // share of a limit from which a reading turns amber; red only at the limit

/** "ok" | "warn" | "alarm" | "unknown" for a share of a limit (1 = at the limit). */
export function toneOf(fraction) {
  if (fraction === null || Number.isNaN(fraction)) return "unknown";
  if (fraction >= 1) return "alarm";
  return fraction >= WARN_FROM ? "warn" : "ok";
}

/** value / limit as a number for drawing, or null when either is unknown or the limit is 0. */
export function shareOfLimit(value, limit) {
  if (value === null || value === undefined || limit === null || limit === undefined) return null;
  const numerator = parseFloat(value);
  const denominator = parseFloat(limit);
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return null;
  return Math.max(0, numerator / denominator); // a gain against a loss limit uses none of it
}

// ---- gauges ------------------------------------------------------------------------------------

const GAUGE = { width: 160, height: 92, cx: 80, cy: 82, radius: 66, stroke: 14 };

function arcPath(fraction) {
  const { cx, cy, radius } = GAUGE;
  const angle = Math.PI * (1 - Math.min(Math.max(fraction, 0), 1));
  const x = cx + radius * Math.cos(angle);
  const y = cy - radius * Math.sin(angle);
  return `M ${cx - radius} ${cy} A ${radius} ${radius} 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`;
}

/**
 * A semicircle gauge: `value` (a string, shown as it is) against `limit`; `fraction` is how much
 * of the limit is used (null: cannot be measured). `caption` says what the limit is.
 */
export function gauge({ testId, title, valueText, caption, fraction }) {
  const tone = toneOf(fraction);
  const drawing = svg(
    "svg",
    { viewBox: `0 0 ${GAUGE.width} ${GAUGE.height}`, class: "gauge-svg", "aria-hidden": "true" },
    svg("path", { d: arcPath(1), class: "gauge-track", "stroke-width": GAUGE.stroke }),
    fraction === null || fraction <= 0
      ? null
      : svg("path", { d: arcPath(fraction), class: `gauge-value tone-${tone}`, "stroke-width": GAUGE.stroke }),
  );
  return h(
    "figure",
    { class: `gauge tone-${tone}`, "data-testid": testId, "data-tone": tone },
    h("figcaption", { class: "label", text: title }),
    drawing,
    h("div", { class: "gauge-reading", "data-testid": `${testId}-value`, text: valueText }),
    h("div", { class: "muted small", text: caption }),
  );
}

// ---- equity curve -----------------------------------------------------------------------------

const CHART = { width: 640, height: 170, left: 8, right: 8, top: 14, bottom: 22 };

function parsedPoints(points) {
  return points
    .map((point) => ({
      ...point,
      x: Date.parse(point.t),
      equityY: parseFloat(point.equity),
      hwmY: point.hwm === null || point.hwm === undefined ? null : parseFloat(point.hwm),
    }))
    .filter((point) => Number.isFinite(point.x) && Number.isFinite(point.equityY));
}

function scales(points) {
  const xs = points.map((point) => point.x);
  const ys = points.flatMap((point) => (point.hwmY === null ? [point.equityY] : [point.equityY, point.hwmY]));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  if (yMax - yMin < 1e-9) [yMin, yMax] = [yMin - 1, yMax + 1]; // a flat line sits in the middle
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const plotHeight = CHART.height - CHART.top - CHART.bottom;
  return {
    x: (value) => CHART.left + (xMax === xMin ? plotWidth : ((value - xMin) / (xMax - xMin)) * plotWidth),
    y: (value) => CHART.top + (1 - (value - yMin) / (yMax - yMin)) * plotHeight,
  };
}

/** The high-water mark as steps: it only moves when a new peak is made. */
function hwmPath(points, scale) {
  let path = "";
  let previousY = null;
  for (const point of points) {
    if (point.hwmY === null) continue;
    const x = scale.x(point.x).toFixed(1);
    const y = scale.y(point.hwmY).toFixed(1);
    path += previousY === null ? `M ${x} ${y}` : ` L ${x} ${previousY} L ${x} ${y}`;
    previousY = y;
  }
  return path;
}

function extremeLabel(points, pick) {
  // The label is the daemon's own string of the point that is highest (or lowest), not a float.
  const best = points.reduce((a, b) => (pick(b.equityY, a.equityY) ? b : a));
  return best.equity;
}

/**
 * The equity curve of one account with its high-water mark. `points` are {t, equity, hwm}
 * (strings), oldest first.
 */
export function equityChart({ testId, points, currency }) {
  const usable = parsedPoints(points);
  if (usable.length < 2) {
    return h("div", { class: "equity-chart empty", "data-testid": testId }, h("p", { class: "muted", text: "Waiting for equity readings…" }));
  }
  const scale = scales(usable);
  const line = usable.map((point) => `${scale.x(point.x).toFixed(1)},${scale.y(point.equityY).toFixed(1)}`).join(" ");
  const last = usable[usable.length - 1];
  const bottom = CHART.height - 6;
  const drawing = svg(
    "svg",
    { viewBox: `0 0 ${CHART.width} ${CHART.height}`, class: "equity-svg", role: "img", "aria-label": `equity curve, ${currency}` },
    svg("path", { d: hwmPath(usable, scale), class: "hwm-line" }),
    svg("polyline", { points: line, class: "equity-line" }),
    svg("circle", { cx: scale.x(last.x).toFixed(1), cy: scale.y(last.equityY).toFixed(1), r: 3, class: "equity-dot" }),
    svg("text", { x: CHART.left, y: bottom, class: "axis-label", text: timeOfDay(usable[0].t) }),
    svg("text", { x: CHART.width - CHART.right, y: bottom, class: "axis-label end", text: timeOfDay(last.t) }),
  );
  return h(
    "div",
    { class: "equity-chart", "data-testid": testId, "data-points": String(usable.length) },
    h(
      "div",
      { class: "chart-legend small" },
      h("span", { class: "legend-equity", text: "equity" }),
      h("span", { class: "legend-hwm", text: "high-water mark" }),
      h("span", { class: "muted", text: `high ${extremeLabel(usable, (a, b) => a > b)} · low ${extremeLabel(usable, (a, b) => a < b)} ${currency}` }),
    ),
    drawing,
  );
}
