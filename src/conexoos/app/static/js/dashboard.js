// The links editor: every change goes through the JSON API with the page's CSRF token.
(() => {
  "use strict";

  function toLocalInput(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    const offset = date.getTimezoneOffset() * 60000;
    return new Date(date.getTime() - offset).toISOString().slice(0, 16);
  }

  function fromLocalInput(value) {
    return value ? new Date(value).toISOString() : null;
  }

  // The server's rule for a link on the public page: enabled, and inside its time window.
  function isLive(link) {
    const now = new Date();
    return link.enabled && !(link.starts_at && new Date(link.starts_at) > now) && !(link.ends_at && new Date(link.ends_at) <= now);
  }

  function describeState(link) {
    if (!link.enabled) return "Hidden";
    const now = new Date();
    if (link.starts_at && new Date(link.starts_at) > now) return `Shows from ${new Date(link.starts_at).toLocaleString()}`;
    if (link.ends_at && new Date(link.ends_at) <= now) return "Ended";
    if (link.ends_at) return `Until ${new Date(link.ends_at).toLocaleString()}`;
    return "Live";
  }

  function fill(item, link) {
    item.querySelector(".link-title").textContent = link.title;
    item.querySelector(".link-url").textContent = link.url;
    item.querySelector(".link-state").textContent = describeState(link);
    const form = item.querySelector(".link-edit");
    form.elements.title.value = link.title;
    form.elements.url.value = link.url;
    form.elements.starts_at.value = toLocalInput(link.starts_at);
    form.elements.ends_at.value = toLocalInput(link.ends_at);
  }

  window.conexoosEditableList({
    list: document.getElementById("links"),
    empty: document.getElementById("empty"),
    template: document.getElementById("link-template"),
    addForm: document.getElementById("add-link"),
    errorBox: document.getElementById("form-error"),
    routes: {
      list: "/api/links",
      add: "/api/add/link",
      edit: (id) => `/api/edit/link/${id}`,
      remove: (id) => `/api/delete/link/${id}`,
      reorder: "/api/links/reorder",
    },
    fill,
    isLive,
    readAdd: (form) => ({ title: form.elements.title.value, url: form.elements.url.value }),
    readEdit: (form) => ({
      title: form.elements.title.value,
      url: form.elements.url.value,
      starts_at: fromLocalInput(form.elements.starts_at.value),
      ends_at: fromLocalInput(form.elements.ends_at.value),
    }),
  });
})();
