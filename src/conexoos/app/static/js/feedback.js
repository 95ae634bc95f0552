// What the dashboard tells a person after each action, in one place: "Saved" in a live region that every
// list of the page shares, a button that stays disabled while its request runs (a second click sends
// nothing), and the server's error shown next to the field it names.
(() => {
  "use strict";
  const SHOWN_FOR_MS = 8000;
  const GAP_PX = 8; // between the focused control and the status above which it is scrolled
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

  // The focused control, when the status (fixed at the bottom of the screen) covers it, scrolls above it.
  function uncover(shown) {
    const focused = document.activeElement;
    if (!focused || focused === document.body) return;
    const below = focused.getBoundingClientRect().bottom - shown.getBoundingClientRect().top + GAP_PX;
    if (below > 0) window.scrollBy(0, below);
  }

  function say(text) {
    const shown = statusRegion();
    window.clearTimeout(clearing);
    shown.textContent = text;
    window.requestAnimationFrame(() => uncover(shown)); // after the caller has moved the focus
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
      if (button?.isConnected && focusWasLost(button)) button.focus();
    }
  }

  // True while the focus is in `element`, or was lost to something around it: to the body when a control
  // that had it was disabled or drawn again, or to the <main tabindex="-1"> (or the list) that a second
  // click on a disabled button focuses. False once the person has gone on to another control, which an
  // answer must never take the focus from.
  function focusWasLost(element) {
    const active = document.activeElement;
    return !active || active.contains(element) || element.contains(active);
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

  // Put `text` under `control` (in its .field, or its row), as the description of its input; the input.
  function markInvalid(control, text) {
    const message = document.createElement("p");
    message.className = "field-error";
    message.id = `field-error-${(errorCount += 1)}`;
    message.textContent = text;
    (control.closest(".field, li") || control.parentElement).append(message);
    const input = control.matches("input, select, textarea") ? control : firstField(control);
    if (input) input.setAttribute("aria-invalid", "true");
    (input || control).setAttribute("aria-describedby", message.id);
    return input;
  }

  // What a person can do about an error that no field fixes: log in again (logged out elsewhere), or
  // reload (the items changed in another tab or window). Null when there is nothing to do but read it.
  function remedyFor(error) {
    if (error.status === 401) {
      const login = document.createElement("a");
      login.href = `/login?next=${encodeURIComponent(window.location.pathname)}`;
      login.textContent = "Log in";
      return login;
    }
    if (error.status !== 404 && error.code !== "incomplete") return null;
    const reload = document.createElement("button");
    reload.type = "button";
    reload.textContent = "Reload";
    reload.addEventListener("click", () => window.location.reload());
    return reload;
  }

  // `error`'s message in `box`, followed by its remedy (a Log in link, a Reload button) if it has one.
  function explain(box, error) {
    const remedy = remedyFor(error);
    box.replaceChildren(error.message, ...(remedy ? [" ", remedy] : []));
  }

  // Show `error` next to the control its `field` names, and move focus there; else in `box`.
  function showError(form, box, error) {
    const control = controlFor(form, error.field);
    if (!control) {
      explain(box, error);
      return;
    }
    markInvalid(control, inWords(error.message, error.field, control))?.focus();
  }

  // A form the page's script sends (through the JSON API) holds its controls in a disabled
  // <fieldset class="needs-script">: until its script has bound it, and with JavaScript off, it cannot be
  // sent natively (a GET of the page would put what was typed, a lock's password too, in the URL and the
  // access logs). The script enables it once its submit listener is in place.
  const enableForm = (form) => {
    for (const fieldset of form.querySelectorAll("fieldset.needs-script")) fieldset.disabled = false;
  };

  window.conexoosFeedback = {
    say, whileSaving, focusWasLost, showError, explain, markInvalid, clearErrors, firstField, enableForm,
  };
})();
