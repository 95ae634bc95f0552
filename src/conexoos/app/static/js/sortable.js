// Reorderable dashboard lists: drag an item by its grip, or move it with its ↑ and ↓ buttons.
// After every move `save()` is awaited; it persists the order of the list's children and re-renders them.
(() => {
  "use strict";

  function refocus(list, id, action) {
    const button = list.querySelector(`[data-id="${id}"] button[data-action="${action}"]`);
    if (button) button.focus();
  }

  function withButtons(list, itemSelector, save) {
    list.addEventListener("click", async (event) => {
      const button = event.target.closest('button[data-action="up"], button[data-action="down"]');
      if (!button) return;
      const item = button.closest(itemSelector);
      const action = button.dataset.action;
      const neighbour = action === "up" ? item.previousElementSibling : item.nextElementSibling;
      if (!neighbour) return;
      if (action === "up") list.insertBefore(item, neighbour);
      else list.insertBefore(neighbour, item);
      await save();
      refocus(list, item.dataset.id, action); // the list was re-rendered: keep the keyboard user's place
    });
  }

  const order = (list) => [...list.children].map((item) => item.dataset.id).join(",");

  function withDragging(list, itemSelector, save) {
    let dragged = null;
    let before = "";
    list.addEventListener("dragstart", (event) => {
      const grip = event.target.closest ? event.target.closest(".grip") : null;
      dragged = grip ? grip.closest(itemSelector) : null;
      if (!dragged) return;
      before = order(list);
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.id);
      event.dataTransfer.setDragImage(dragged, 16, 16);
    });
    list.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      const target = event.target.closest(itemSelector);
      if (!target || target === dragged) return;
      const box = target.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? target.nextElementSibling : target);
    });
    list.addEventListener("drop", (event) => event.preventDefault());
    list.addEventListener("dragend", async () => {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      if (order(list) !== before) await save(); // a drag dropped where it started changes nothing
    });
  }

  window.conexoosSortable = (list, itemSelector, save) => {
    withButtons(list, itemSelector, save);
    withDragging(list, itemSelector, save);
  };
})();
