// Talking to the daemon's API: JSON in and out, the session cookie for authentication, and
// FastAPI's error bodies turned into one sentence a person can act on.

/** A request the API refused (status 4xx/5xx) or could not be sent (status 0). */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

function fieldName(location) {
  // ["body", "stop_loss_dollars"] names the field "stop_loss_dollars"; the "body" prefix says nothing.
  const parts = (location ?? []).filter((part) => part !== "body");
  return parts.length ? parts.join(".") : "request";
}

/** The message of an error answer: FastAPI's {"detail": "..."} or, for a 422, its list of {loc, msg}. */
export function errorMessage(status, body) {
  const detail = body && typeof body === "object" ? body.detail : undefined;
  if (Array.isArray(detail)) {
    return detail.map((item) => `${fieldName(item.loc)}: ${item.msg}`).join("; ");
  }
  if (typeof detail === "string") return detail;
  if (detail !== undefined) return JSON.stringify(detail);
  if (typeof body === "string" && body.trim()) return `${status}: ${body.trim().slice(0, 200)}`;
  return `the daemon answered ${status}`;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Send a request and return the parsed JSON answer (null for 204). Throws ApiError on anything
 * but 2xx. `body`, when given, is sent as JSON.
 */
export async function requestJson(method, url, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, `the daemon did not answer (${error.message})`);
  }
  const answer = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, answer));
  return answer;
}

export const getJson = (url) => requestJson("GET", url);
export const postJson = (url, body) => requestJson("POST", url, body);
export const putJson = (url, body) => requestJson("PUT", url, body);

/** The path segment for a strategy id or symbol (the API allows letters, digits and ._:- only). */
export function segment(value) {
  return encodeURIComponent(value);
}
