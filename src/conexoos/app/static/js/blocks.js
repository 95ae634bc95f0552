// The page layout editor: every block of the page in order, through the generic /api/blocks API.
// Headers, texts, dividers, embeds and rows of social icons are added from the menu of kinds and edited in
// place; links and products are only moved here (their own lists edit them). A social row's profiles are a
// list of (network, handle) rows in the form, added and removed with their own buttons.
(() => {
  "use strict";
  const SIMPLE = ["header", "text", "divider", "embed", "social", "capture"];
  const EDITABLE = ["header", "text", "embed", "social", "capture"];
  const NAMES = {
    header: "Header", text: "Text", divider: "Divider", embed: "Embed", social: "Social icons", capture: "Email sign-up", link: "Link", product: "Product",
  };
  const socialRow = document.getElementById("social-row-template");

  // The (network, handle) rows of a form's social fieldset: numbered names, and never fewer than one row.
  function renumber(rows) {
    [...rows.children].forEach((row, index) => {
      row.querySelector('[data-action="remove-social-row"]').setAttribute("aria-label", `Remove profile ${index + 1}`);
      row.querySelector('[data-action="remove-social-row"]').hidden = rows.children.length === 1;
    });
  }

  function addSocialRow(form, entry) {
    const rows = form.querySelector(".social-rows");
    const row = socialRow.content.firstElementChild.cloneNode(true);
    if (entry) {
      row.querySelector("select").value = entry.network;
      row.querySelector("input").value = entry.handle || entry.url || "";
    }
    rows.append(row);
    renumber(rows);
    return row;
  }

  function setSocialRows(form, items) {
    form.querySelector(".social-rows").replaceChildren();
    for (const entry of items.length ? items : [null]) addSocialRow(form, entry);
  }

  function readSocialRows(form) {
    return [...form.querySelectorAll(".social-row")].map((row) => ({
      network: row.querySelector("select").value,
      handle: row.querySelector("input").value,
    }));
  }

  // The social fieldset's own buttons, in the add form and in every block's edit form.
  document.addEventListener("click", (event) => {
    const button = event.target.closest('[data-action="add-social-row"], [data-action="remove-social-row"]');
    if (!button) return;
    const form = button.closest("form");
    if (button.dataset.action === "add-social-row") {
      addSocialRow(form).querySelector("select").focus();
    } else {
      const rows = button.closest(".social-rows");
      const row = button.closest(".social-row");
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber(rows);
      next?.querySelector("input").focus();
    }
  });

  // Show only the fields of `kind` in a form whose fields say which kinds take them (data-kinds).
  function showFields(form, kind) {
    for (const field of form.querySelectorAll("[data-kinds]")) {
      field.hidden = !field.dataset.kinds.split(" ").includes(kind);
    }
  }

  function summary(block) {
    if (["header", "link", "product", "capture"].includes(block.kind)) return block.title || "";
    if (block.kind === "text") return block.text;
    if (block.kind === "embed") return `${block.provider || ""}: ${block.title || block.url}`;
    if (block.kind === "social") return (block.items || []).map((entry) => entry.handle || entry.url).join(", ");
    return "";
  }

  function fill(item, block) {
    const simple = SIMPLE.includes(block.kind);
    item.querySelector(".link-title").textContent = NAMES[block.kind] || block.kind;
    item.querySelector(".link-url").textContent = summary(block);
    item.querySelector(".link-state").textContent = simple
      ? (block.enabled ? "Shown" : "Hidden")
      : `Edit it in your ${block.kind === "link" ? "links" : "products"}`;
    for (const action of ["toggle", "delete"]) item.querySelector(`[data-action="${action}"]`).hidden = !simple;
    item.querySelector('[data-action="edit"]').hidden = !EDITABLE.includes(block.kind);
    const form = item.querySelector(".link-edit");
    showFields(form, block.kind);
    form.elements.title.value = block.title || "";
    form.elements.text.value = block.text || "";
    form.elements.url.value = block.url || "";
    form.elements.button.value = block.button || "";
    if (block.kind === "social") setSocialRows(form, block.items || []);
  }

  function readFields(form, kind) {
    if (kind === "header") return { title: form.elements.title.value };
    if (kind === "text") return { text: form.elements.text.value };
    if (kind === "embed") return { url: form.elements.url.value, title: form.elements.title.value };
    if (kind === "social") return { items: readSocialRows(form) };
    if (kind === "capture") return { title: form.elements.title.value, button: form.elements.button.value };
    return {};
  }

  const addForm = document.getElementById("add-block");
  const kindMenu = addForm.elements.kind;
  kindMenu.addEventListener("change", () => showFields(addForm, kindMenu.value));
  setSocialRows(addForm, []);

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
    describe: (block) => `${NAMES[block.kind] || block.kind} ${summary(block)}`.trim(),
    readAdd: (form) => ({ kind: form.elements.kind.value, ...readFields(form, form.elements.kind.value) }),
    readEdit: (form) => readFields(form, form.closest("[data-id]").record.kind),
    added: () => { // the reset put the menu back on its first kind
      showFields(addForm, kindMenu.value);
      setSocialRows(addForm, []);
    },
  });
})();
