// A dashboard list of the user's items (links, products) kept in step with the JSON API: add, edit in
// place, show or hide, delete and reorder. The page says how an item is drawn (`fill`) and what its add
// and edit forms send (`readAdd`, `readEdit`, which may throw an Error whose message is shown); `added`,
// if given, runs after a new item is in the list and the add form was reset. The list's `data-limit` (the
// plan's limit, empty for none) and `isLive(record)` mark the live items past the limit, which the public
// page hides until the plan allows them, the same rule as the server's.
(() => {
  "use strict";
  const api = window.conexoosApi;

  window.conexoosEditableList = (options) => {
    const { list, empty, template, addForm, errorBox, routes, fill, readAdd, readEdit, isLive } = options;
    const limit = list.dataset.limit === "" || list.dataset.limit === undefined ? null : Number(list.dataset.limit);
    const show = (error) => { errorBox.textContent = error.message; };

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
      } catch (error) {
        show(error);
        await load(); // show the order the server kept
      }
    }

    async function act(action, item) {
      const record = item.record;
      if (action === "delete") {
        if (!window.confirm(`Delete “${record.title}”?`)) return;
        await api("DELETE", routes.remove(record.id));
        item.remove();
        empty.hidden = list.children.length > 0;
        markPlanHidden();
      } else if (action === "toggle") {
        replaceItem(await api("PUT", routes.edit(record.id), { enabled: !record.enabled }));
      } else if (action === "edit") {
        const form = item.querySelector(".link-edit");
        form.hidden = false;
        form.elements.title.focus();
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
        addForm.elements.title.focus();
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
        replaceItem(await api("PUT", routes.edit(id), readEdit(form)));
      } catch (error) {
        errors.textContent = error.message;
      }
    });

    window.conexoosSortable(list, "[data-id]", persistOrder);
    load().catch(show);
    return { replaceItem, show };
  };
})();
