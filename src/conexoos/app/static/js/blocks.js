// The page layout editor: every block of the page in order, through the generic /api/blocks API.
// Headers, texts, dividers and embeds are added from the menu of kinds and edited in place; links and products
// are only moved here (their own lists edit them).
(() => {
  "use strict";
  const SIMPLE = ["header", "text", "divider", "embed"];
  const EDITABLE = ["header", "text", "embed"];
  const NAMES = { header: "Header", text: "Text", divider: "Divider", embed: "Embed", link: "Link", product: "Product" };

  // Show only the fields of `kind` in a form whose fields say which kinds take them (data-kinds).
  function showFields(form, kind) {
    for (const field of form.querySelectorAll("[data-kinds]")) {
      field.hidden = !field.dataset.kinds.split(" ").includes(kind);
    }
  }

  function summary(block) {
    if (block.kind === "header" || block.kind === "link" || block.kind === "product") return block.title || "";
    if (block.kind === "text") return block.text;
    if (block.kind === "embed") return `${block.provider || ""}: ${block.title || block.url}`;
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
  }

  function readFields(form, kind) {
    if (kind === "header") return { title: form.elements.title.value };
    if (kind === "text") return { text: form.elements.text.value };
    if (kind === "embed") return { url: form.elements.url.value, title: form.elements.title.value };
    return {};
  }

  const addForm = document.getElementById("add-block");
  const kindMenu = addForm.elements.kind;
  kindMenu.addEventListener("change", () => showFields(addForm, kindMenu.value));

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
    added: () => showFields(addForm, kindMenu.value), // the reset put the menu back on its first kind
  });
})();
