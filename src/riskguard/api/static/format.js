// How figures and times are written on the page. Decimals arrive as strings and are shown as
// they are: no float ever touches a displayed amount.

const DASH = "—";

/** A decimal string as given, or a dash for null. */
export function decimalText(value) {
  return value === null || value === undefined ? DASH : String(value);
}

/** An amount with its currency: "49984.90 USD". */
export function money(value, currency) {
  return value === null || value === undefined ? DASH : `${value} ${currency ?? ""}`.trim();
}

/** A percentage string with its sign: "0.04 %". */
export function percent(value) {
  return value === null || value === undefined ? DASH : `${value} %`;
}

/** True when a decimal string is negative (by its spelling, not by float parsing). */
export function isNegative(value) {
  return typeof value === "string" && value.trim().startsWith("-") && /[1-9]/.test(value);
}

function pad(number) {
  return String(number).padStart(2, "0");
}

/** "20:10:17 UTC" from an ISO time; operators compare it with the daemon's logs, which are UTC. */
export function timeOfDay(iso) {
  if (!iso) return DASH;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} UTC`;
}

/** "2026-11-22 20:10:17 UTC" from an ISO time. */
export function dateTime(iso) {
  if (!iso) return DASH;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const day = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  return `${day} ${timeOfDay(iso)}`;
}

/** A countdown such as "1h 02m 05s", "4m 07s" or "12s"; "now" once it has passed. */
export function duration(milliseconds) {
  if (milliseconds <= 0) return "now";
  const total = Math.ceil(milliseconds / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h ${pad(minutes)}m ${pad(seconds)}s`;
  if (minutes > 0) return `${minutes}m ${pad(seconds)}s`;
  return `${seconds}s`;
}
