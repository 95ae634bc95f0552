// /admin/menus: drag an entry by its grip, or use its ↑ and ↓ buttons, and the new order is saved at once
// (POST {"ids": [...]} to the menu's order URL). Without JavaScript the ↑/↓ buttons submit their forms.
(() => {
  "use strict";

  async function saveOrder(list) {
    const status = list.parentElement.querySelector("[data-order-status]");
    const ids = [...list.querySelectorAll(":scope > [data-id]")].map((item) => Number(item.dataset.id));
    try {
      await window.conexoosApi("POST", list.dataset.orderUrl, { ids });
      status.textContent = "";
    } catch (error) {
      status.textContent = `${error.message} Reload the page to see the saved order.`;
    }
    refreshButtons(list);
  }

  function refreshButtons(list) {
    const items = [...list.querySelectorAll(":scope > [data-id]")];
    items.forEach((item, index) => {
      item.querySelector('button[data-action="up"]').disabled = index === 0;
      item.querySelector('button[data-action="down"]').disabled = index === items.length - 1;
    });
  }

  for (const list of document.querySelectorAll("ol.menu-entries")) {
    // The ↑/↓ buttons are form buttons: with JavaScript the list moves in place instead of submitting.
    list.addEventListener("click", (event) => {
      if (event.target.closest('button[data-action="up"], button[data-action="down"]')) event.preventDefault();
    });
    window.conexoosSortable(list, "li[data-id]", () => saveOrder(list));
  }
})();
