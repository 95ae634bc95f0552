// The page layout editor: every block of the page in order, through the generic /api/blocks API.
// The editor knows no kind by name: the menu of kinds and each kind's fields are drawn by the server from
// the block registry (a <template id="kind-fields-NAME"> per kind, each control marked with data-control),
// so a new kind needs no change here. Any block is added from the menu, edited in place, shown or hidden,
// deleted and moved. A list of profiles (a social row) is a list of (network, handle) rows in the form,
// added and removed with their own buttons.
(() => {
  "use strict";
  const SUMMARY_MAX = 40;
  const socialRow = document.getElementById("social-row-template");
  const kindTemplate = (kind) => document.getElementById(`kind-fields-${kind}`);
  const singular = (kind) => kindTemplate(kind)?.dataset.singular || kind;
  const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);
  const { toMinorUnits, toDecimalText } = window.conexoosMoney;
  let capCount = 0;

  // The (network, handle) rows of a profiles fieldset: numbered names, never fewer than one row, and no
  // more than the fieldset's data-max (its Add button disabled then, and the hint saying why).
  function renumber(rows) {
    [...rows.children].forEach((row, index) => {
      const remove = row.querySelector('[data-action="remove-social-row"]');
      remove.setAttribute("aria-label", `Remove profile ${index + 1}`);
      remove.hidden = rows.children.length === 1;
    });
    const fieldset = rows.closest('[data-control="profiles"]');
    const full = Boolean(fieldset.dataset.max) && rows.children.length >= Number(fieldset.dataset.max);
    const add = fieldset.querySelector('[data-action="add-social-row"]');
    const cap = fieldset.querySelector(".social-cap");
    add.disabled = full;
    cap.hidden = !full;
    cap.id ||= `social-cap-${(capCount += 1)}`;
    add.setAttribute("aria-describedby", cap.id);
  }

  function addSocialRow(fieldset, entry) {
    const rows = fieldset.querySelector(".social-rows");
    const row = socialRow.content.firstElementChild.cloneNode(true);
    if (entry) {
      row.querySelector("select").value = entry.network;
      row.querySelector("input").value = entry.handle || entry.url || "";
    }
    rows.append(row);
    renumber(rows);
    return row;
  }

  function setSocialRows(fieldset, items) {
    fieldset.querySelector(".social-rows").replaceChildren();
    for (const entry of items.length ? items : [null]) addSocialRow(fieldset, entry);
  }

  const readSocialRows = (fieldset) => [...fieldset.querySelectorAll(".social-row")].map((row) => ({
    network: row.querySelector("select").value,
    handle: row.querySelector("input").value,
  }));

  // The profiles fieldset's own buttons, in the add form and in every block's edit form.
  document.addEventListener("click", (event) => {
    const button = event.target.closest('[data-action="add-social-row"], [data-action="remove-social-row"]');
    if (!button) return;
    const fieldset = button.closest('[data-control="profiles"]');
    if (button.dataset.action === "add-social-row") {
      addSocialRow(fieldset).querySelector("select").focus();
    } else {
      const rows = button.closest(".social-rows");
      const row = button.closest(".social-row");
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber(rows);
      next?.querySelector("input").focus();
    }
  });

  // Put the fields of `kind` in the form's .kind-fields, filled from `block` (empty for a new one).
  function showFields(form, kind, block) {
    const holder = form.querySelector(".kind-fields");
    holder.replaceChildren(...(kindTemplate(kind) ? [kindTemplate(kind).content.cloneNode(true)] : []));
    for (const control of holder.querySelectorAll("[data-control]")) {
      const value = block ? block[control.name || control.dataset.field] : undefined;
      if (control.dataset.control === "profiles") setSocialRows(control, value || []);
      else if (control.dataset.control === "price" && typeof value === "number") control.value = toDecimalText(value, block.currency);
      else control.value = value ?? "";
    }
  }

  // The body of a kind's form: every control's value; a new block leaves out optional fields left empty.
  function readFields(form, isNew) {
    const body = {};
    for (const control of form.querySelectorAll(".kind-fields [data-control]")) {
      const name = control.name || control.dataset.field;
      if (control.dataset.control === "profiles") body[name] = readSocialRows(control);
      else if (isNew && control.value === "" && !control.required) continue;
      else if (control.dataset.control === "number") body[name] = control.value === "" ? null : Number(control.value);
      else if (control.dataset.control === "price") body[name] = readPrice(form, control);
      else body[name] = control.value;
    }
    return body;
  }

  // The price typed in the currency's units ("12.50"), in minor units; an error names the price field.
  function readPrice(form, control) {
    const currency = (form.querySelector('.kind-fields [name="currency"]')?.value || "").trim().toUpperCase();
    try {
      return toMinorUnits(control.value, currency);
    } catch (error) {
      error.field = control.name;
      throw error;
    }
  }

  function summary(block) {
    if (Array.isArray(block.items)) return block.items.map((entry) => entry.handle || entry.url).join(", ");
    const words = block.title || block.text || block.url || "";
    return block.provider ? `${block.provider}: ${words}` : words;
  }

  // Shown or hidden, and what a moderator hid: the whole block (an embed) or icons of a row.
  function state(block) {
    if (block.hidden_by_staff) return "Hidden by a moderator";
    // A block with a time window (a link's) is shown only inside it, as the links list above says.
    const windowed = ("starts_at" in block || "ends_at" in block) && window.conexoosTimeWindow;
    const time = windowed ? window.conexoosTimeWindow(block) : "Live";
    const shown = !block.enabled ? "Hidden" : time === "Live" ? "Shown" : time;
    const hidden = Array.isArray(block.items) ? block.items.filter((entry) => entry.hidden_by_staff).length : 0;
    if (!hidden) return shown;
    if (hidden === block.items.length) return "Hidden by a moderator (every icon)"; // nothing left to show
    return `${shown} (${hidden === 1 ? "1 icon" : `${hidden} icons`} hidden by a moderator)`;
  }

  // How a button names its block: "header About", "link Portfolio" (long texts cut at a word).
  function name(block) {
    const words = summary(block).replace(/\s+/g, " ").trim();
    const short = words.length > SUMMARY_MAX ? `${words.slice(0, SUMMARY_MAX).replace(/\s+\S*$/, "")}…` : words;
    return `${singular(block.kind)} ${short}`.trim();
  }

  function fill(item, block) {
    item.querySelector(".link-title").textContent = capitalised(singular(block.kind));
    item.querySelector(".link-url").textContent = summary(block);
    item.querySelector(".link-state").textContent = state(block);
    const form = item.querySelector(".link-edit");
    showFields(form, block.kind, block);
    item.querySelector('[data-action="edit"]').hidden = !form.querySelector("[data-control]");
  }

  const addForm = document.getElementById("add-block");
  const kindMenu = addForm.elements.kind;
  const kindHint = document.getElementById("block-kind-hint");
  function chooseKind() {
    showFields(addForm, kindMenu.value);
    kindHint.textContent = kindMenu.selectedOptions[0]?.dataset.description || "";
  }
  kindMenu.addEventListener("change", chooseKind);
  chooseKind();

  window.conexoosEditableList({
    list: document.getElementById("blocks"),
    empty: document.getElementById("blocks-empty"),
    template: document.getElementById("block-template"),
    addForm,
    errorBox: document.getElementById("block-error"),
    routes: {
      list: "/api/blocks",
      add: "/api/blocks",
      edit: (id) => `/api/blocks/${id}`,
      remove: (id) => `/api/blocks/${id}`,
      reorder: "/api/blocks/reorder",
    },
    editMethod: "PATCH",
    fill,
    isLive: () => false, // the plan's limits are shown in the links' and products' own lists
    name,
    readAdd: (form) => ({ kind: kindMenu.value, ...readFields(form, true) }),
    readEdit: (form) => readFields(form, false),
    added: (block) => { // the reset put the menu back on its first kind: stay on the kind just added
      kindMenu.value = block.kind;
      chooseKind();
    },
  });
})();
