// /admin/menus: drag an entry by its grip, or use its ↑ and ↓ buttons, and the new order is saved at once
// (POST {"ids": [...], "previous": [...]} to the menu's order URL). Without JavaScript the ↑/↓ buttons submit
// their forms, each moving its entry one place in the order the server holds.
(() => {
  "use strict";

  // Each list's order as the server last gave it to this page: sent as `previous`, so that the server refuses
  // (409) an order made on a list another tab or administrator reordered since, instead of undoing that move.
  const saved = new Map();
  const idsOf = (list) => [...list.querySelectorAll(":scope > [data-id]")].map((item) => Number(item.dataset.id));

  async function saveOrder(list) {
    const status = list.parentElement.querySelector("[data-order-status]");
    const ids = idsOf(list);
    try {
      const answer = await window.conexoosApi("POST", list.dataset.orderUrl, { ids, previous: saved.get(list) });
      saved.set(list, answer.ids);
      status.textContent = "";
    } catch (error) {
      const shown = await drawSaved(list);
      status.textContent = shown
        ? `${error.message.replace(/:.*$/, ".")} The menu is shown as it is saved now: move the entry again.`
        : `${error.message} Reload the page to see the saved order.`;
    }
    refreshButtons(list);
  }

  // Draw `list` as the server holds it now (its entries from the page asked again); false when it cannot.
  async function drawSaved(list) {
    try {
      const response = await fetch(window.location.pathname, { credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const current = page.querySelector(`ol.menu-entries[data-menu="${list.dataset.menu}"]`);
      if (!response.ok || !current) return false;
      list.replaceChildren(...[...current.children].map((item) => document.importNode(item, true)));
      saved.set(list, idsOf(list));
      return true;
    } catch {
      return false; // offline: the message says to reload
    }
  }

  function refreshButtons(list) {
    const items = [...list.querySelectorAll(":scope > [data-id]")];
    items.forEach((item, index) => {
      item.querySelector('button[data-action="up"]').disabled = index === 0;
      item.querySelector('button[data-action="down"]').disabled = index === items.length - 1;
    });
  }

  for (const list of document.querySelectorAll("ol.menu-entries")) {
    saved.set(list, idsOf(list));
    // The ↑/↓ buttons are form buttons: with JavaScript the list moves in place instead of submitting.
    list.addEventListener("click", (event) => {
      if (event.target.closest('button[data-action="up"], button[data-action="down"]')) event.preventDefault();
    });
    window.conexoosSortable(list, "li[data-id]", () => saveOrder(list));
  }
})();
