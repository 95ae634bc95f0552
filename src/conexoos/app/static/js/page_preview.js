// The page editor's live preview: the Markdown is posted (with the page's CSRF token, through api.js) to
// /admin/pages/preview as the writer types; the server answers with the sanitised page as a tree of nodes,
// built here with createElement and text nodes (no string is ever parsed as HTML).
// Without JavaScript the "Preview" button does the same by posting the form back.
(() => {
  "use strict";
  const form = document.querySelector("form[data-preview-url]");
  const preview = document.getElementById("page-preview");
  if (!form || !preview || !window.conexoosApi) return;
  const body = form.querySelector("textarea[name=body]");
  const problem = document.getElementById("preview-problem");
  let timer = null;
  let asked = 0;

  function build(node) {
    if (typeof node === "string") return document.createTextNode(node);
    const [tag, attributes, children] = node;
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    for (const child of children) element.appendChild(build(child));
    return element;
  }

  async function refresh() {
    const mine = ++asked;
    try {
      const data = await window.conexoosApi("POST", form.dataset.previewUrl, { body: body.value });
      if (mine !== asked) return;
      preview.replaceChildren(...data.nodes.map(build));
      if (problem) {
        problem.textContent = data.problem ? `Saving would refuse this text: ${data.problem}` : "";
        problem.hidden = !data.problem;
      }
    } catch (error) {
      if (mine === asked) preview.textContent = `No preview: ${error.message}`;
    }
  }

  body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
})();
