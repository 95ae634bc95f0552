// What the dashboard tells a person after each action, in one place: "Saved" in a live region that every
// list of the page shares, a button that stays disabled while its request runs (a second click sends
// nothing), and the server's error shown next to the field it names.
(() => {
  "use strict";
  const SHOWN_FOR_MS = 8000;
  let region = null;
  let clearing = 0;
  let errorCount = 0;

  // The page's one status region, made on first use: role=status is polite and read without moving focus.
  function statusRegion() {
    if (!region) {
      region = document.createElement("p");
      region.id = "action-status";
      region.className = "action-status";
      region.setAttribute("role", "status");
      document.body.append(region);
    }
    return region;
  }

  function say(text) {
    const shown = statusRegion();
    window.clearTimeout(clearing);
    shown.textContent = text;
    clearing = window.setTimeout(() => { shown.textContent = ""; }, SHOWN_FOR_MS);
  }

  const firstField = (form) => [...form.querySelectorAll("input, textarea, select")]
    .find((field) => field.type !== "hidden" && !field.disabled && !field.closest("[hidden]"));

  function clearErrors(form) {
    for (const message of form.querySelectorAll(".field-error")) message.remove();
    for (const field of form.querySelectorAll('[aria-describedby^="field-error-"]')) {
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
    }
  }

  // Run `work` with `button` (and, for a form, its submit buttons) disabled; a form or button already
  // saving runs nothing. Resolves or rejects as `work` does.
  async function whileSaving(form, button, work) {
    const owner = form || button;
    if (owner.dataset.saving) return;
    owner.dataset.saving = "yes";
    const buttons = new Set(form ? form.querySelectorAll('button[type="submit"], button:not([type])') : []);
    if (button) buttons.add(button);
    for (const each of buttons) each.disabled = true;
    if (form) clearErrors(form);
    try {
      await work();
    } finally {
      delete owner.dataset.saving;
      for (const each of buttons) each.disabled = false;
      // A disabled button drops the focus: give it back unless the work moved it on.
      if (button?.isConnected && document.activeElement === document.body) button.focus();
    }
  }

  // The control an API error's `field` names: "url", or "items[1].handle" (the second row of the list
  // field `items`, its `handle` input). Null when the form has no such visible control.
  function controlFor(form, path) {
    const match = /^([\w-]+)(?:\[(\d+)\])?(?:\.([\w-]+))?$/.exec(path || "");
    if (!match) return null;
    const [, name, index, key] = match;
    const group = form.querySelector(`[data-field="${name}"]`);
    let control = form.querySelector(`[name="${name}"]`) || group;
    if (index !== undefined && group) {
      const row = group.querySelectorAll("li")[Number(index)];
      control = row && (row.querySelector(`[name="${key}"]`) || row);
    }
    return control && !control.closest("[hidden]") ? control : null;
  }

  // The words of a control's label, without the text of the controls inside it.
  function labelOf(control) {
    const label = control.labels?.[0] || control.querySelector?.("legend");
    if (!label) return "";
    return [...label.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE)
      .map((node) => node.textContent).join("").trim();
  }

  // "url must be …" from the API reads "URL must be …" next to the field labelled URL.
  function inWords(message, path, control) {
    const name = path.split(/[[.]/)[0];
    const label = labelOf(control);
    const text = label && message.startsWith(`${name} `) ? `${label}${message.slice(name.length)}` : message;
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // Show `error` next to the control its `field` names, and move focus there; else in `box`.
  function showError(form, box, error) {
    const control = controlFor(form, error.field);
    if (!control) {
      box.textContent = error.message;
      return;
    }
    const message = document.createElement("p");
    message.className = "field-error";
    message.id = `field-error-${(errorCount += 1)}`;
    message.textContent = inWords(error.message, error.field, control);
    (control.closest(".field, li") || control.parentElement).append(message);
    const input = control.matches("input, select, textarea") ? control : firstField(control);
    if (input) input.setAttribute("aria-invalid", "true");
    (input || control).setAttribute("aria-describedby", message.id);
    input?.focus();
  }

  window.conexoosFeedback = { say, whileSaving, showError, firstField };
})();
