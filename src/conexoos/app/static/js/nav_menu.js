// The phone's navigation Menu (a <details> disclosure in base.html) opens and closes without JavaScript.
// This only closes it when the person is done with it, since its open panel covers the page below: on
// Escape (the focus goes back to its Menu button), when the focus leaves it (Tab past its last entry), and
// on a tap or click anywhere else. That tap only closes it, whatever is under the finger: its press is
// cancelled (so no control takes the focus, no select opens) and the click it makes (a link followed, a
// radio checked) is swallowed, so the next tap acts as usual.
(() => {
  "use strict";
  const menu = document.querySelector("details.nav-menu");
  if (!menu) return;
  const summary = menu.querySelector("summary");

  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open) return;
    event.preventDefault();
    menu.open = false;
    summary.focus();
  });

  // relatedTarget is null when the focus leaves for no element (another window, a tap on the page's
  // text): the tap is handled below, and a window left and come back to finds its menu as it was.
  menu.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
  });

  let swallowClick = false; // set by a press outside the open menu, for the click that ends it
  document.addEventListener("pointerdown", (event) => {
    swallowClick = menu.open && !menu.contains(event.target);
    if (!swallowClick) return;
    // A cancelled pointerdown has the browser send no mousedown, whose own default focuses the control
    // pressed, opens a select or starts a text selection; scrolling by touch is not one of its defaults.
    event.preventDefault();
    menu.open = false;
    // The focus stays where it was, which is no place to leave it when that is one of the links now hidden.
    if (menu.contains(document.activeElement)) summary.focus({ preventScroll: true });
  }, true);
  document.addEventListener("pointercancel", () => { swallowClick = false; }, true); // a scroll: no click
  document.addEventListener("click", (event) => {
    const swallow = swallowClick && event.detail > 0; // a key's click (detail 0) is never the tap's
    swallowClick = false;
    if (!swallow) return;
    event.preventDefault();
    event.stopPropagation();
  }, true);
})();
