// A dashboard list of the user's items (links, products, blocks) kept in step with the JSON API: add, edit
// in place, show or hide, delete and reorder. The page says how an item is drawn (`fill`) and what its add
// and edit forms send (`readAdd`, `readEdit`, which may throw an Error whose message is shown); `added`,
// if given, runs after a new item is in the list and the add form was reset; `edited(record)`, if given,
// runs once an edit succeeded, before its row is drawn again (never after a refused one); an edit sends only
// the fields changed since its row was drawn. The list's `data-limit` (the
// plan's limit, empty for none) and `isLive(record)` mark the live items past the limit, which the public
// page hides until the plan allows them, the same rule as the server's. Optional: `editMethod` (PUT by
// default), `name(record)` saying which item a button acts on ("link Portfolio": "Delete link Portfolio"),
// `beforeEdit(form, record)`, awaited before an edit is sent (its error is shown like the edit's own; it
// answers true when it saved something itself).
// After every change a "conexoos:items-changed" event tells the page's other lists to reload: a link added
// above is a block of the page layout below.
//
// Every action gives feedback: its button is disabled while the request runs (a second click sends
// nothing), then "Saved" is said in the list's live region, or the server's error is shown next to the
// field it names (`field` of the API's error) or, for an error about no one field, in the form's own box.
// Focus stays where the person was: on the row after Save, Cancel (or Escape) and Hide, on the next row's
// handle after Delete (the add form when the list is empty). ↑ on the first row and ↓ on the last are
// aria-disabled (they stay focusable, and say why in their title).
(() => {
  "use strict";
  const api = window.conexoosApi;
  const feedback = window.conexoosFeedback;

  window.conexoosEditableList = (options) => {
    const { list, empty, template, addForm, errorBox, routes, fill, readAdd, readEdit, isLive } = options;
    const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);
    const limit = list.dataset.limit === "" || list.dataset.limit === undefined ? null : Number(list.dataset.limit);
    const editMethod = options.editMethod || "PUT";
    const name = options.name || ((record) => record.title);
    const say = feedback.say;
    const changed = () => document.dispatchEvent(new CustomEvent("conexoos:items-changed", { detail: { list } }));
    const show = (error) => feedback.explain(errorBox, error);
    // A 404 for one item: it was deleted in another tab or window (the server's "No such …" is for the API).
    const gone = (record) => (error) => {
      if (error.status === 404) {
        error.message = `${capitalised(name(record))} no longer exists (deleted in another tab or window?): reload to see your page as it is now.`;
      }
      throw error;
    };

    // ↑ on the first row and ↓ on the last cannot move it: say so rather than do nothing.
    function markEnds() {
      const items = [...list.children];
      items.forEach((item, index) => {
        const ends = { up: index === 0, down: index === items.length - 1 };
        for (const [action, atEnd] of Object.entries(ends)) {
          const button = item.querySelector(`button[data-action="${action}"]`);
          if (!button) continue;
          if (atEnd) button.setAttribute("aria-disabled", "true");
          else button.removeAttribute("aria-disabled");
          button.title = atEnd ? `Already ${action === "up" ? "first" : "last"}` : "";
        }
      });
    }

    function markPlanHidden() {
      markEnds();
      let live = 0;
      for (const item of list.children) {
        const counted = isLive(item.record);
        if (counted) live += 1;
        const hidden = counted && limit !== null && live > limit;
        item.classList.toggle("over-limit", hidden);
        item.querySelector(".plan-note").hidden = !hidden;
      }
    }

    // Buttons that say which item they act on: "Move header About up", "Delete link Portfolio", "Save link
    // Portfolio", "Image for product Zine".
    function labelButtons(item, record) {
      const called = name(record);
      const labels = {
        up: `Move ${called} up`,
        down: `Move ${called} down`,
        toggle: `${record.enabled ? "Hide" : "Show"} ${called}`,
        edit: `Edit ${called}`,
        delete: `Delete ${called}`,
      };
      for (const [action, label] of Object.entries(labels)) {
        item.querySelector(`button[data-action="${action}"]`)?.setAttribute("aria-label", label);
      }
      item.querySelector("button.grip")?.setAttribute("aria-label", `Reorder ${called}`);
      item.querySelector('.link-edit button[type="submit"]')?.setAttribute("aria-label", `Save ${called}`);
      item.querySelector('.link-edit button[data-action="cancel"]')?.setAttribute("aria-label", `Cancel editing ${called}`);
      item.querySelector('input[data-action="image"]')?.setAttribute("aria-label", `Image for ${called}`);
    }

    function renderItem(record) {
      const item = template.content.firstElementChild.cloneNode(true);
      item.dataset.id = String(record.id);
      item.record = record;
      item.classList.toggle("disabled", !record.enabled);
      const toggle = item.querySelector('[data-action="toggle"]');
      toggle.textContent = record.enabled ? "Hide" : "Show";
      toggle.hidden = Boolean(record.hidden_by_staff); // a moderator hid it: its owner cannot show it
      fill(item, record);
      labelButtons(item, record);
      item.drawnValues = readDrawn(item.querySelector(".link-edit"));
      return item;
    }

    // What an edit form held when its row was drawn. A save sends only the fields changed since, so a tab
    // that was not reloaded never puts back, in fields it did not touch, what another tab saved meanwhile.
    function readDrawn(form) {
      try {
        return form ? readEdit(form) : null;
      } catch {
        return null; // a value the form cannot read as drawn: the save sends every field
      }
    }

    function changedFields(now, drawn) {
      if (!drawn) return now;
      return Object.fromEntries(
        Object.entries(now).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(drawn[key])),
      );
    }

    // The order as the server last gave it to this page (or as this page last changed it): a move sends it
    // as `previous`, and the server refuses the new order (409) when another tab moved an item meanwhile.
    let savedOrder = [];
    const remember = () => { savedOrder = [...list.children].map((item) => Number(item.dataset.id)); };

    function render(records) {
      list.replaceChildren(...records.map(renderItem));
      empty.hidden = records.length > 0;
      markPlanHidden();
      remember();
    }

    function replaceItem(record) {
      const old = list.querySelector(`[data-id="${record.id}"]`);
      const item = renderItem(record);
      if (old) old.replaceWith(item);
      markPlanHidden();
      return item;
    }

    // True while the focus is in `item`, or was lost to what holds it (the body, the page's main, the list:
    // a control an answer disabled or drew again, a second click on a disabled button): an answer may then
    // move it. It never pulls the focus back from where the person has gone on to while the answer was on
    // its way.
    const focusIsWith = feedback.focusWasLost;

    // The row of `record` drawn again, and its `control` focused when the focus was still with the old row.
    function redraw(record, control) {
      const old = list.querySelector(`[data-id="${record.id}"]`);
      const mayFocus = !old || focusIsWith(old);
      const item = replaceItem(record);
      if (mayFocus) item.querySelector(control).focus();
      return item;
    }

    // A change of ours (add, edit, delete, order) counts here once its answer is drawn. A load asked for
    // before it may carry the list as it was before: that answer is dropped and the list asked again. Of
    // two loads, an answer older than the one already drawn is dropped too. So a stale answer never draws
    // over a newer row, nor adds the row just added a second time. The list is aria-busy while loading.
    let changes = 0;
    let asked = 0;
    let drawnLoad = 0;
    let loading = 0;
    const drawn = () => { changes += 1; };

    // The list is aria-busy from the moment a load or a new order is asked for until its answer is drawn.
    async function busy(work) {
      loading += 1;
      list.setAttribute("aria-busy", "true");
      try {
        return await work();
      } finally {
        loading -= 1;
        if (!loading) list.removeAttribute("aria-busy");
      }
    }

    function load() {
      const seen = changes;
      const ticket = (asked += 1);
      return busy(async () => {
        const records = await api("GET", routes.list);
        if (seen !== changes) return load();
        if (ticket < drawnLoad) return undefined;
        drawnLoad = ticket;
        render(records);
        return undefined;
      });
    }

    // The row of `record`, drawn again where it is, or added at the end when the list has none yet (a load
    // answered after the add may already hold it).
    function upsert(record) {
      if (list.querySelector(`[data-id="${record.id}"]`)) return replaceItem(record);
      const item = renderItem(record);
      list.append(item);
      markPlanHidden();
      remember();
      return item;
    }

    async function persistOrder() {
      const ids = [...list.children].map((item) => Number(item.dataset.id));
      const previous = savedOrder;
      savedOrder = ids; // what the server holds once it takes this order: the next quick move builds on it
      try {
        await busy(async () => render(await api("POST", routes.reorder, { ids, previous })));
        drawn();
        say("Saved the new order.");
        changed();
      } catch (error) {
        show(error);
        await load(); // show the order the server kept
      }
    }

    // After a delete: the next row's (or else the previous row's) first control, its handle, never a
    // button that deletes (a second Enter would start another delete); the add form's first field when none.
    function focusAfterDelete(next, previous) {
      const row = next || previous;
      const target = row?.querySelector("button:not([hidden]):not(.danger)") || feedback.firstField(addForm);
      target?.focus();
    }

    // `item` out of the list (deleted here, or found deleted in another tab or window); the focus, when it
    // was with the row, on a row next to it.
    function drop(item, next, previous) {
      const mayFocus = focusIsWith(item);
      item.remove();
      remember();
      drawn();
      empty.hidden = list.children.length > 0;
      markPlanHidden();
      changed();
      if (mayFocus) focusAfterDelete(next, previous);
    }

    async function remove(item) {
      const record = item.record;
      if (!window.confirm(`Delete ${name(record)}?`)) return;
      const { nextElementSibling: next, previousElementSibling: previous } = item;
      await api("DELETE", routes.remove(record.id));
      say(`Deleted ${name(record)}.`);
      drop(item, next, previous);
    }

    // The row of an item that is gone (404: deleted in another tab or window) leaves the list, as drawn
    // now (a load may have drawn it again meanwhile); the error, still thrown, says so.
    function dropIfGone(record, error) {
      const row = list.querySelector(`[data-id="${record.id}"]`);
      if (error.status === 404 && row) drop(row, row.nextElementSibling, row.previousElementSibling);
      throw error;
    }

    async function toggle(item) {
      const record = await api(editMethod, routes.edit(item.record.id), { enabled: !item.record.enabled });
      redraw(record, 'button[data-action="toggle"]');
      drawn();
      say(`Saved: ${name(record)} is ${record.enabled ? "shown" : "hidden"}.`);
      changed();
    }

    async function act(action, item) {
      if (action === "delete") {
        await remove(item);
      } else if (action === "toggle") {
        await toggle(item);
      } else if (action === "edit") {
        const form = item.querySelector(".link-edit");
        form.hidden = false;
        feedback.firstField(form)?.focus();
      } else if (action === "cancel") {
        replaceItem(item.record).querySelector('button[data-action="edit"]').focus(); // back to the saved values
      }
    }

    // True from an add's reset of its form until a field is changed. Enter pressed again and again for that
    // add (a submit while it saves sends nothing) reaches the emptied form once it is saved: a submit of it
    // that lacks a required field sends nothing, rather than show "Title may not be empty" under "Saved: …
    // is added". A form with nothing required (a divider) adds again, and any change makes it say again
    // what is missing.
    let justEmptied = false;
    addForm.addEventListener("input", () => { justEmptied = false; });
    const lacksRequired = () => [...addForm.querySelectorAll("[required]")]
      .some((field) => !field.disabled && !field.closest("[hidden]") && !field.value.trim());

    addForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (justEmptied && lacksRequired()) return;
      errorBox.textContent = "";
      feedback.whileSaving(addForm, event.submitter, async () => {
        const record = await api("POST", routes.add, readAdd(addForm));
        upsert(record);
        drawn();
        empty.hidden = true;
        addForm.reset();
        justEmptied = true;
        if (options.added) options.added(record);
        say(`Saved: ${name(record)} is added.`);
        changed();
        feedback.firstField(addForm)?.focus();
      }).catch((error) => feedback.showError(addForm, errorBox, error));
    });
    feedback.enableForm(addForm); // bound: it can be sent now (never before, as a GET of the page)

    list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      const action = button?.dataset.action;
      if (!button || !["delete", "toggle", "edit", "cancel"].includes(action) || button.disabled) return;
      const item = button.closest("[data-id]");
      feedback.whileSaving(null, button, () => act(action, item).catch(gone(item.record)))
        .catch((error) => dropIfGone(item.record, error))
        .catch(show);
    });

    list.addEventListener("keydown", (event) => { // Escape in an edit form is its Cancel button
      const form = event.target.closest(".link-edit");
      if (event.key !== "Escape" || !form || form.dataset.saving) return;
      event.preventDefault();
      act("cancel", form.closest("[data-id]"));
    });

    list.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      const box = form.querySelector(".errors");
      box.textContent = "";
      feedback.whileSaving(form, event.submitter, async () => {
        const row = form.closest("[data-id]");
        const saved = row.record;
        // An error leaves the form open; true when it saved something of its own (an icon).
        const savedBefore = options.beforeEdit ? await options.beforeEdit(form, saved) : false;
        const changes = changedFields(readEdit(form), row.drawnValues);
        if (!Object.keys(changes).length) {
          redraw(saved, 'button[data-action="edit"]');
          say(savedBefore ? `Saved ${name(saved)}.` : `Nothing changed in ${name(saved)}.`);
          if (savedBefore) changed();
          return;
        }
        const record = await api(editMethod, routes.edit(saved.id), changes).catch(gone(saved));
        if (options.edited) options.edited(record);
        redraw(record, 'button[data-action="edit"]');
        drawn();
        say(`Saved ${name(record)}.`);
        changed();
      }).catch((error) => feedback.showError(form, box, error));
    });

    document.addEventListener("conexoos:items-changed", (event) => {
      if (event.detail.list !== list) load().catch(show);
    });
    window.conexoosSortable(list, "[data-id]", persistOrder, say);
    load().catch(show);
    const replaceDrawn = (record) => {
      const item = replaceItem(record);
      drawn();
      return item;
    };
    return { replaceItem: replaceDrawn, show };
  };
})();
