// Signing in and out, shared by the daemon's page (risk.js) and the controller's (controller.js).
//
// Both pages have the same login form and user box, with these ids: #login-panel, #login-form,
// #login-username, #login-password, #login-submit, #login-error (and, on the daemon's page,
// #login-note), #user-box, #user-name, #user-role, #sign-out; and #dashboard, #status-strip and
// #page-error. This module shows either the login form or the dashboard; the page says what to
// start once someone is signed in and what to stop when nobody is.

import { showText } from "./dom.js";
import { ApiError, getJson, postJson } from "./http.js";

const RETRY_SESSION_MS = 5000; // while the server does not answer at all

const byId = (id) => document.getElementById(id);

/**
 * The page's session. `onSignedIn()` runs once the dashboard is shown (the user is in
 * `session.user`), `onSignedOut()` when the login form replaces it. `canSignOut(user)` says whether
 * the user box offers "Sign out".
 */
export function createSession({ onSignedIn, onSignedOut, canSignOut = (user) => user !== null }) {
  const session = {
    user: null, // {username, role, via} from /api/auth/me; null: unknown (read-only)
    checkSession,
    callApi,
    verifySession,
    setUser,
  };
  // Where a note (signed out, session ended) goes: the controller's page has no #login-note.
  const noteBox = byId("login-note") ?? byId("login-error");

  /** Who is signed in? The dashboard if anyone (or if the server cannot say), else the login form. */
  async function checkSession() {
    try {
      session.user = await getJson("/api/auth/me");
    } catch (error) {
      if (error.status === 401) {
        showLogin();
        return;
      }
      if (error.status === 0) {
        showText(byId("page-error"), `${error.message}; trying again…`);
        setTimeout(checkSession, RETRY_SESSION_MS);
        return;
      }
      session.user = null; // the server cannot say who we are: show everything, change nothing
    }
    byId("login-panel").hidden = true;
    byId("dashboard").hidden = false;
    byId("status-strip").hidden = false;
    setUser(session.user);
    onSignedIn();
  }

  /** Ask again who is signed in: back to the login form if the session is gone, else nothing. */
  async function verifySession() {
    try {
      await callApi(() => getJson("/api/auth/me"));
    } catch {
      // callApi has shown the login form on a 401; anything else is for the next retry to see
    }
  }

  /** Show `user` in the user box (after a sign-in, or when the server says who we are). */
  function setUser(user) {
    session.user = user;
    byId("user-box").hidden = false;
    byId("user-name").textContent = user?.username ?? "unknown user";
    byId("user-role").textContent = user?.role ?? "read-only";
    byId("sign-out").hidden = !canSignOut(user);
  }

  /** The login form instead of the dashboard; `note` says why (signed out, session ended). */
  function showLogin(note = "") {
    onSignedOut();
    session.user = null;
    byId("dashboard").hidden = true;
    byId("status-strip").hidden = true;
    byId("user-box").hidden = true;
    byId("login-panel").hidden = false;
    showText(byId("login-error"), "");
    showText(noteBox, note);
    byId("login-username").focus();
  }

  function showLoginError(message) {
    showText(noteBox, "");
    showText(byId("login-error"), message);
  }

  async function signIn(event) {
    event.preventDefault();
    const username = byId("login-username").value.trim();
    const password = byId("login-password").value;
    const submit = byId("login-submit");
    submit.disabled = true;
    try {
      await postJson("/api/auth/login", { username, password }); // the answer sets the session cookie
      byId("login-password").value = "";
      showLoginError("");
      await checkSession();
    } catch (error) {
      showLoginError(error.status === 401 ? "Wrong user name or password." : error.message);
    } finally {
      submit.disabled = false;
    }
  }

  async function signOut() {
    try {
      await postJson("/api/auth/logout");
    } catch {
      // the session is gone either way as far as this page is concerned
    }
    showLogin("Signed out.");
  }

  /** Run an API call; a 401 means the session ended, so the page goes back to the login form. */
  async function callApi(call) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) showLogin("Your session ended; sign in again.");
      throw error;
    }
  }

  byId("login-form").addEventListener("submit", signIn);
  byId("sign-out").addEventListener("click", signOut);
  return session;
}
