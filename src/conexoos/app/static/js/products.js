// The products editor: every change goes through the JSON API with the page's CSRF token.
(() => {
  "use strict";
  const list = document.getElementById("products");
  const empty = document.getElementById("products-empty");
  const template = document.getElementById("product-template");
  const addForm = document.getElementById("add-product");
  const errorBox = document.getElementById("product-error");
  const routes = {
    list: "/api/products",
    add: "/api/add/product",
    edit: (id) => `/api/edit/product/${id}`,
    remove: (id) => `/api/delete/product/${id}`,
    image: (id) => `/api/product/${id}/image`,
    reorder: "/api/products/reorder",
  };

  const api = window.conexoosApi;

  function digits(currency) {
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    } catch (error) {
      return 2;
    }
  }

  function money(product) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: product.currency })
        .format(product.price / 10 ** digits(product.currency));
    } catch (error) {
      return `${product.price} ${product.currency}`;
    }
  }

  // "12.50" or "12,5" in EUR -> 1250; refuses what the currency cannot hold rather than rounding it away.
  function toMinorUnits(text, currency) {
    const places = digits(currency);
    const match = /^(\d{1,9})(?:[.,](\d+))?$/.exec(String(text).trim());
    if (!match) throw new Error("Enter a price such as 12.50.");
    const fraction = match[2] || "";
    if (fraction.length > places) {
      throw new Error(places ? `${currency} prices have at most ${places} decimals.` : `${currency} prices have no decimals.`);
    }
    return Number(match[1]) * 10 ** places + Number(fraction.padEnd(places, "0") || 0);
  }

  function toDecimalText(product) {
    const places = digits(product.currency);
    return (product.price / 10 ** places).toFixed(places);
  }

  function fields(form) {
    const currency = form.elements.currency.value.trim().toUpperCase();
    return {
      title: form.elements.title.value,
      description: form.elements.description.value,
      price: toMinorUnits(form.elements.price.value, currency),
      currency,
      buy_url: form.elements.buy_url.value,
    };
  }

  function fillEditForm(form, product) {
    form.elements.title.value = product.title;
    form.elements.price.value = toDecimalText(product);
    form.elements.currency.value = product.currency;
    form.elements.buy_url.value = product.buy_url;
    form.elements.description.value = product.description;
  }

  function renderItem(product) {
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.id = String(product.id);
    item.product = product;
    item.classList.toggle("disabled", !product.enabled);
    item.querySelector(".thumb").src = product.image_url;
    item.querySelector(".link-title").textContent = product.title;
    item.querySelector(".link-url").textContent = `${money(product)} · ${product.buy_url}`;
    item.querySelector(".link-state").textContent = product.enabled ? "Shown" : "Hidden";
    item.querySelector('[data-action="toggle"]').textContent = product.enabled ? "Hide" : "Show";
    fillEditForm(item.querySelector(".link-edit"), product);
    return item;
  }

  function render(products) {
    list.replaceChildren(...products.map(renderItem));
    empty.hidden = products.length > 0;
  }

  function replaceItem(product) {
    const old = list.querySelector(`[data-id="${product.id}"]`);
    if (old) old.replaceWith(renderItem(product));
  }

  const show = (error) => { errorBox.textContent = error.message; };

  async function load() {
    render(await api("GET", routes.list));
  }

  async function persistOrder() {
    const ids = [...list.children].map((item) => Number(item.dataset.id));
    try {
      render(await api("POST", routes.reorder, { ids }));
    } catch (error) {
      show(error);
      await load(); // show the order the server kept
    }
  }

  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    try {
      const product = await api("POST", routes.add, fields(addForm));
      list.append(renderItem(product));
      empty.hidden = true;
      const currency = product.currency;
      addForm.reset();
      addForm.elements.currency.value = currency;
      addForm.elements.title.focus();
    } catch (error) {
      show(error);
    }
  });

  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const item = button.closest(".product-item");
    const product = item.product;
    const action = button.dataset.action;
    try {
      if (action === "delete") {
        if (!window.confirm(`Delete “${product.title}”?`)) return;
        await api("DELETE", routes.remove(product.id));
        item.remove();
        empty.hidden = list.children.length > 0;
      } else if (action === "toggle") {
        replaceItem(await api("PUT", routes.edit(product.id), { enabled: !product.enabled }));
      } else if (action === "edit") {
        const form = item.querySelector(".link-edit");
        form.hidden = false;
        form.elements.title.focus();
      } else if (action === "cancel") {
        replaceItem(product); // back to the saved values
      }
    } catch (error) {
      show(error);
    }
  });

  list.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const item = form.closest(".product-item");
    const errors = form.querySelector(".errors");
    errors.textContent = "";
    try {
      replaceItem(await api("PUT", routes.edit(item.product.id), fields(form)));
    } catch (error) {
      errors.textContent = error.message;
    }
  });

  list.addEventListener("change", async (event) => {
    const input = event.target.closest('input[data-action="image"]');
    if (!input || !input.files.length) return;
    const item = input.closest(".product-item");
    const body = new FormData();
    body.append("image", input.files[0]);
    try {
      replaceItem(await api("POST", routes.image(item.product.id), body));
    } catch (error) {
      show(error);
    }
  });

  window.conexoosSortable(list, ".product-item", persistOrder);

  load().catch(show);
})();
