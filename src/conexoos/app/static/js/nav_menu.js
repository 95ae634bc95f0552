// The phone's navigation Menu (a <details> disclosure in base.html) opens and closes without JavaScript.
// This only closes it when the person is done with it, since its open panel covers the page below: on
// Escape (the focus goes back to its Menu button), when the focus leaves it (Tab past its last entry), and
// on a tap or click anywhere else.
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

  document.addEventListener("pointerdown", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
})();
