// The links editor: every change goes through the JSON API with the page's CSRF token.
(() => {
  "use strict";
  const list = document.getElementById("links");
  const empty = document.getElementById("empty");
  const template = document.getElementById("link-template");
  const addForm = document.getElementById("add-link");
  const formError = document.getElementById("form-error");
  const routes = {
    list: "/api/links",
    add: "/api/add/link",
    edit: (id) => `/api/edit/link/${id}`,
    remove: (id) => `/api/delete/link/${id}`,
    reorder: "/api/links/reorder",
  };

  const api = window.conexoosApi;

  function toLocalInput(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    const offset = date.getTimezoneOffset() * 60000;
    return new Date(date.getTime() - offset).toISOString().slice(0, 16);
  }

  function fromLocalInput(value) {
    return value ? new Date(value).toISOString() : null;
  }

  function describeState(link) {
    if (!link.enabled) return "Hidden";
    const now = new Date();
    if (link.starts_at && new Date(link.starts_at) > now) return `Shows from ${new Date(link.starts_at).toLocaleString()}`;
    if (link.ends_at && new Date(link.ends_at) <= now) return "Ended";
    if (link.ends_at) return `Until ${new Date(link.ends_at).toLocaleString()}`;
    return "Live";
  }

  function renderItem(link) {
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.id = String(link.id);
    item.classList.toggle("disabled", !link.enabled);
    item.querySelector(".link-title").textContent = link.title;
    item.querySelector(".link-url").textContent = link.url;
    item.querySelector(".link-state").textContent = describeState(link);
    item.querySelector('[data-action="toggle"]').textContent = link.enabled ? "Hide" : "Show";
    const form = item.querySelector(".link-edit");
    form.elements.title.value = link.title;
    form.elements.url.value = link.url;
    form.elements.starts_at.value = toLocalInput(link.starts_at);
    form.elements.ends_at.value = toLocalInput(link.ends_at);
    item.link = link;
    return item;
  }

  function render(links) {
    list.replaceChildren(...links.map(renderItem));
    empty.hidden = links.length > 0;
  }

  function replaceItem(link) {
    const old = list.querySelector(`[data-id="${link.id}"]`);
    if (old) old.replaceWith(renderItem(link));
  }

  async function load() {
    render(await api("GET", routes.list));
  }

  async function persistOrder() {
    const ids = [...list.children].map((item) => Number(item.dataset.id));
    try {
      render(await api("POST", routes.reorder, { ids }));
    } catch (error) {
      formError.textContent = error.message;
      await load();
    }
  }

  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.textContent = "";
    const body = { title: addForm.elements.title.value, url: addForm.elements.url.value };
    try {
      const link = await api("POST", routes.add, body);
      list.append(renderItem(link));
      empty.hidden = true;
      addForm.reset();
      addForm.elements.title.focus();
    } catch (error) {
      formError.textContent = error.message;
    }
  });

  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const item = button.closest(".link-item");
    const link = item.link;
    const action = button.dataset.action;
    try {
      if (action === "delete") {
        if (!window.confirm(`Delete “${link.title}”?`)) return;
        await api("DELETE", routes.remove(link.id));
        item.remove();
        empty.hidden = list.children.length > 0;
      } else if (action === "toggle") {
        replaceItem(await api("PUT", routes.edit(link.id), { enabled: !link.enabled }));
      } else if (action === "edit") {
        const form = item.querySelector(".link-edit");
        form.hidden = false;
        form.elements.title.focus();
      } else if (action === "cancel") {
        replaceItem(link); // back to the saved values
      }
    } catch (error) {
      formError.textContent = error.message;
    }
  });

  list.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const item = form.closest(".link-item");
    const body = {
      title: form.elements.title.value,
      url: form.elements.url.value,
      starts_at: fromLocalInput(form.elements.starts_at.value),
      ends_at: fromLocalInput(form.elements.ends_at.value),
    };
    try {
      replaceItem(await api("PUT", routes.edit(item.link.id), body));
    } catch (error) {
      form.querySelector(".errors").textContent = error.message;
    }
  });

  window.conexoosSortable(list, ".link-item", persistOrder);

  load().catch((error) => {
    formError.textContent = error.message;
  });
})();
