// Reorderable dashboard lists: drag an item by its grip with a mouse, a pen or a finger (Pointer Events),
// press ↑ or ↓ on the focused grip, or use the item's Move up and Move down buttons.
// After every move `save()` is awaited; it persists the order of the list's children and re-renders them.
// However a drag ends (a click on the grip is one), the focus is then on the row's handle. It ends with
// nothing saved on Escape, on a drop outside the list or the window, or when the browser takes the pointer
// back; `say(text)`, if given, tells a screen reader so.
(() => {
  "use strict";
  const EDGE = 48; // px from the window's top or bottom edge where a drag scrolls the page
  const SPILL = 32; // px around the list where a drop still counts as on it
  const STEP = 12;

  function refocus(list, id, selector) {
    const target = list.querySelector(`[data-id="${id}"] ${selector}`);
    if (target) target.focus();
  }

  // Move `item` one place up or down; false at either end of the list.
  function shift(list, item, direction) {
    const neighbour = direction === "up" ? item.previousElementSibling : item.nextElementSibling;
    if (!neighbour) return false;
    if (direction === "up") list.insertBefore(item, neighbour);
    else list.insertBefore(neighbour, item);
    return true;
  }

  function withButtons(list, itemSelector, save) {
    let moved = null; // the button of the row the last click moved: {id, selector}
    list.addEventListener("click", async (event) => {
      const button = event.target.closest('button[data-action="up"], button[data-action="down"]');
      if (!button) return;
      // The second click of a double-click (a key press has detail 0) lands on the button now under the
      // pointer, another row's, and would move that row back: it moves nothing, and the focus its press
      // took goes back to the moved row's button.
      if (event.detail > 1) {
        if (moved) refocus(list, moved.id, moved.selector);
        return;
      }
      moved = null;
      if (button.getAttribute("aria-disabled") === "true") return; // first row's ↑, last row's ↓
      const item = button.closest(itemSelector);
      const action = button.dataset.action;
      if (!shift(list, item, action)) return;
      moved = { id: item.dataset.id, selector: `button[data-action="${action}"]` };
      await save();
      refocus(list, item.dataset.id, `button[data-action="${action}"]`); // the list was re-rendered
    });
  }

  function withKeys(list, itemSelector, save) {
    list.addEventListener("keydown", async (event) => {
      const grip = event.target.closest(".grip");
      const direction = { ArrowUp: "up", ArrowDown: "down" }[event.key];
      if (!grip || !direction) return;
      event.preventDefault(); // the arrows move the item, not the page
      const item = grip.closest(itemSelector);
      if (!shift(list, item, direction)) return;
      await save();
      refocus(list, item.dataset.id, ".grip");
    });
  }

  const order = (list) => [...list.children].map((item) => item.dataset.id).join(",");

  // Put `dragged` above the first sibling whose middle is below `y`, or last.
  function place(list, dragged, y) {
    const others = [...list.children].filter((item) => item !== dragged);
    const below = others.find((item) => {
      const box = item.getBoundingClientRect();
      return y < box.top + box.height / 2;
    });
    if (below) {
      if (dragged.nextElementSibling !== below) list.insertBefore(dragged, below);
    } else if (list.lastElementChild !== dragged) {
      list.append(dragged);
    }
  }

  function scrollNearEdge(y) {
    if (y < EDGE) window.scrollBy(0, -STEP);
    else if (y > window.innerHeight - EDGE) window.scrollBy(0, STEP);
  }

  // The drag handle of the row `id` (drawn again, maybe, since the drag began), or its first button when
  // the handle is no button: where a keyboard move leaves the focus.
  function focusHandle(list, id) {
    const item = list.querySelector(`[data-id="${id}"]`);
    (item?.querySelector("button.grip") || item?.querySelector("button"))?.focus();
  }

  // True while the pointer is over the list, or within SPILL px of it (an overshoot past the first or last
  // row still places it there), where the window shows it: a drop anywhere else cancels.
  function overList(list, event) {
    const box = list.getBoundingClientRect();
    const { clientX: x, clientY: y } = event;
    const inWindow = x >= 0 && y >= 0 && x < window.innerWidth && y < window.innerHeight;
    const nearX = x >= box.left - SPILL && x <= box.right + SPILL;
    return inWindow && nearX && y >= box.top - SPILL && y <= box.bottom + SPILL;
  }

  function withDragging(list, itemSelector, save, say) {
    let drag = null; // {item, pointerId, before, home: the sibling it was above, null when it was last}

    // The dragged row back where it was, unless the list was drawn again since the drag began.
    function putBack({ item, home }) {
      const inPlace = item.parentNode === list && (!home || home.parentNode === list);
      if (inPlace && item.nextElementSibling !== home) list.insertBefore(item, home);
    }

    // Escape, a drop outside the list or the window, or a pointer the browser took back: the row goes back,
    // nothing is saved, the focus is on its handle (as after a keyboard move) and the status says so.
    function cancel() {
      const { item, pointerId } = drag;
      putBack(drag);
      drag = null;
      item.classList.remove("dragging");
      if (list.hasPointerCapture(pointerId)) list.releasePointerCapture(pointerId);
      focusHandle(list, item.dataset.id);
      if (say) say("Move cancelled: the order is unchanged.");
    }

    list.addEventListener("pointerdown", (event) => {
      const grip = event.target.closest(".grip");
      if (!grip || !event.isPrimary || event.button !== 0 || drag) return;
      event.preventDefault(); // no text selection, no native drag, no focus yet: the drop gives it
      list.setPointerCapture(event.pointerId); // the moves keep coming wherever the finger goes
      const item = grip.closest(itemSelector);
      drag = { item, pointerId: event.pointerId, before: order(list), home: item.nextElementSibling };
      item.classList.add("dragging");
    });
    document.addEventListener("keydown", (event) => {
      if (!drag || event.key !== "Escape") return;
      event.preventDefault();
      cancel();
    });
    list.addEventListener("pointermove", (event) => {
      if (!drag || event.pointerId !== drag.pointerId) return;
      if (!overList(list, event)) {
        putBack(drag); // shows where the row stays if let go here
        return;
      }
      place(list, drag.item, event.clientY);
      scrollNearEdge(event.clientY);
    });
    list.addEventListener("pointerup", async (event) => {
      if (!drag || event.pointerId !== drag.pointerId) return;
      if (!overList(list, event)) {
        cancel();
        return;
      }
      const { item, before } = drag;
      drag = null;
      item.classList.remove("dragging");
      if (order(list) !== before) await save(); // dropped where it started (a click): nothing to save
      focusHandle(list, item.dataset.id); // where ↑ and ↓, which its tooltip offers, move it on
    });
    const lost = (event) => {
      if (drag && (event.type === "blur" || event.pointerId === drag.pointerId)) cancel();
    };
    list.addEventListener("pointercancel", lost);
    list.addEventListener("lostpointercapture", lost); // fired after pointerup too, by then drag is null
    window.addEventListener("blur", lost); // another window took the pointer and the keyboard
  }

  window.conexoosSortable = (list, itemSelector, save, say) => {
    withButtons(list, itemSelector, save);
    withKeys(list, itemSelector, save);
    withDragging(list, itemSelector, save, say);
  };
})();
