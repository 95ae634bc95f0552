// The page editor's live preview: the Markdown is posted (with the page's CSRF token, through api.js) to
// /admin/pages/preview as the writer types, and the sanitised HTML the server returns replaces the preview.
// Without JavaScript the "Preview" button does the same by posting the form back.
(() => {
  "use strict";
  const form = document.querySelector("form[data-preview-url]");
  const preview = document.getElementById("page-preview");
  if (!form || !preview || !window.conexoosApi) return;
  const body = form.querySelector("textarea[name=body]");
  let timer = null;
  let asked = 0;

  async function refresh() {
    const mine = ++asked;
    try {
      const data = await window.conexoosApi("POST", form.dataset.previewUrl, { body: body.value });
      if (mine === asked) preview.innerHTML = data.html; // sanitised by the server (nh3)
    } catch (error) {
      if (mine === asked) preview.textContent = `No preview: ${error.message}`;
    }
  }

  body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
})();
