// A dashboard list of the user's items (links, products) kept in step with the JSON API: add, edit in
// place, show or hide, delete and reorder. The page says how an item is drawn (`fill`) and what its add
// and edit forms send (`readAdd`, `readEdit`, which may throw an Error whose message is shown); `added`,
// if given, runs after a new item is in the list and the add form was reset. The list's `data-limit` (the
// plan's limit, empty for none) and `isLive(record)` mark the live items past the limit, which the public
// page hides until the plan allows them, the same rule as the server's. Optional: `editMethod` (PUT by
// default), `describe(record)` naming an item in the delete question (its title by default). After every
// change a "conexoos:items-changed" event tells the page's other lists to reload: a link added above
// is a block of the page layout below.
(() => {
  "use strict";
  const api = window.conexoosApi;

  window.conexoosEditableList = (options) => {
    const { list, empty, template, addForm, errorBox, routes, fill, readAdd, readEdit, isLive } = options;
    const limit = list.dataset.limit === "" || list.dataset.limit === undefined ? null : Number(list.dataset.limit);
    const show = (error) => { errorBox.textContent = error.message; };
    const editMethod = options.editMethod || "PUT";
    const describe = options.describe || ((record) => record.title);
    const changed = () => document.dispatchEvent(new CustomEvent("conexoos:items-changed", { detail: { list } }));
    const firstField = (form) => [...form.querySelectorAll("input, textarea, select")].find((field) => !field.closest("[hidden]"));

    function markPlanHidden() {
      let live = 0;
      for (const item of list.children) {
        const counted = isLive(item.record);
        if (counted) live += 1;
        const hidden = counted && limit !== null && live > limit;
        item.classList.toggle("over-limit", hidden);
        item.querySelector(".plan-note").hidden = !hidden;
      }
    }

    function renderItem(record) {
      const item = template.content.firstElementChild.cloneNode(true);
      item.dataset.id = String(record.id);
      item.record = record;
      item.classList.toggle("disabled", !record.enabled);
      item.querySelector('[data-action="toggle"]').textContent = record.enabled ? "Hide" : "Show";
      fill(item, record);
      return item;
    }

    function render(records) {
      list.replaceChildren(...records.map(renderItem));
      empty.hidden = records.length > 0;
      markPlanHidden();
    }

    function replaceItem(record) {
      const old = list.querySelector(`[data-id="${record.id}"]`);
      if (old) old.replaceWith(renderItem(record));
      markPlanHidden();
    }

    async function load() {
      render(await api("GET", routes.list));
    }

    async function persistOrder() {
      const ids = [...list.children].map((item) => Number(item.dataset.id));
      try {
        render(await api("POST", routes.reorder, { ids }));
        changed();
      } catch (error) {
        show(error);
        await load(); // show the order the server kept
      }
    }

    async function act(action, item) {
      const record = item.record;
      if (action === "delete") {
        if (!window.confirm(`Delete “${describe(record)}”?`)) return;
        await api("DELETE", routes.remove(record.id));
        item.remove();
        empty.hidden = list.children.length > 0;
        markPlanHidden();
        changed();
      } else if (action === "toggle") {
        replaceItem(await api(editMethod, routes.edit(record.id), { enabled: !record.enabled }));
        changed();
      } else if (action === "edit") {
        const form = item.querySelector(".link-edit");
        form.hidden = false;
        firstField(form)?.focus();
      } else if (action === "cancel") {
        replaceItem(record); // back to the saved values
      }
    }

    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      errorBox.textContent = "";
      try {
        const record = await api("POST", routes.add, readAdd(addForm));
        list.append(renderItem(record));
        empty.hidden = true;
        markPlanHidden();
        addForm.reset();
        if (options.added) options.added(record);
        changed();
        firstField(addForm)?.focus();
      } catch (error) {
        show(error);
      }
    });

    list.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      try {
        await act(button.dataset.action, button.closest("[data-id]"));
      } catch (error) {
        show(error);
      }
    });

    list.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const errors = form.querySelector(".errors");
      errors.textContent = "";
      try {
        const id = form.closest("[data-id]").record.id;
        replaceItem(await api(editMethod, routes.edit(id), readEdit(form)));
        changed();
      } catch (error) {
        errors.textContent = error.message;
      }
    });

    document.addEventListener("conexoos:items-changed", (event) => {
      if (event.detail.list !== list) load().catch(show);
    });
    window.conexoosSortable(list, "[data-id]", persistOrder);
    load().catch(show);
    return { replaceItem, show };
  };
})();
