// A confirmation dialog for the actions that change what the daemon allows: it asks for a
// reason (it goes to the audit journal with the operator's name), runs the action while the
// dialog stays open, and shows a refusal inside the dialog so the typed reason is not lost.

import { h } from "./dom.js";

const REASON_MAX = 500; // the API's limit on a reason

function dialogElements({ title, message, confirmLabel, danger, checkboxLabel }) {
  const reason = h("textarea", {
    class: "reason-input",
    rows: 2,
    maxlength: REASON_MAX,
    required: true,
    "data-testid": "confirm-reason",
    placeholder: "Why? (kept in the audit journal)",
  });
  const checkbox = checkboxLabel ? h("input", { type: "checkbox", "data-testid": "confirm-checkbox" }) : null;
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "confirm-error", hidden: true });
  const submit = h("button", {
    type: "submit",
    class: danger ? "button-danger" : "button-primary",
    "data-testid": "confirm-submit",
    disabled: true,
    text: confirmLabel,
  });
  const cancel = h("button", { type: "button", "data-testid": "confirm-cancel", text: "Cancel" });
  const form = h(
    "form",
    { method: "dialog" },
    h("h2", { text: title }),
    h("p", { class: "dialog-message", text: message }),
    h("label", {}, "Reason", reason),
    checkbox ? h("label", { class: "checkbox-label" }, checkbox, ` ${checkboxLabel}`) : null,
    error,
    h("div", { class: "button-row dialog-buttons" }, cancel, submit),
  );
  const dialog = h("dialog", { class: "confirm-dialog", "data-testid": "confirm-dialog" }, form);
  return { dialog, form, reason, checkbox, error, submit, cancel };
}

/**
 * Ask before an action. `run({reason, checked})` is awaited while the dialog shows "working";
 * if it throws, its message is shown in the dialog and the operator may retry or cancel.
 * Resolves true once `run` succeeded, false when cancelled.
 */
export function confirmAction({ title, message, confirmLabel = "Confirm", danger = true, checkboxLabel = null, run }) {
  const parts = dialogElements({ title, message, confirmLabel, danger, checkboxLabel });
  const { dialog, form, reason, checkbox, error, submit, cancel } = parts;
  document.body.append(dialog);

  return new Promise((resolve) => {
    let busy = false;
    const finish = (done) => {
      dialog.close();
      dialog.remove();
      resolve(done);
    };
    reason.addEventListener("input", () => {
      submit.disabled = busy || reason.value.trim() === "";
    });
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault(); // Escape: close through finish() so the promise settles
      if (!busy) finish(false);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (!text || busy) return;
      busy = true;
      submit.disabled = true;
      cancel.disabled = true;
      submit.textContent = "Working…";
      error.hidden = true;
      try {
        await run({ reason: text, checked: checkbox ? checkbox.checked : false });
        finish(true);
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        busy = false;
        submit.disabled = false;
        cancel.disabled = false;
        submit.textContent = confirmLabel;
      }
    });
    dialog.showModal();
    reason.focus();
  });
}
