// The products editor: every change goes through the JSON API with the page's CSRF token.
(() => {
  "use strict";

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

  function read(form) {
    const currency = form.elements.currency.value.trim().toUpperCase();
    return {
      title: form.elements.title.value,
      description: form.elements.description.value,
      price: toMinorUnits(form.elements.price.value, currency),
      currency,
      buy_url: form.elements.buy_url.value,
    };
  }

  function fill(item, product) {
    item.querySelector(".thumb").src = product.image_url;
    item.querySelector(".link-title").textContent = product.title;
    item.querySelector(".link-url").textContent = `${money(product)} · ${product.buy_url}`;
    item.querySelector(".link-state").textContent = product.enabled ? "Shown" : "Hidden";
    const form = item.querySelector(".link-edit");
    form.elements.title.value = product.title;
    form.elements.price.value = toDecimalText(product);
    form.elements.currency.value = product.currency;
    form.elements.buy_url.value = product.buy_url;
    form.elements.description.value = product.description;
  }

  const list = document.getElementById("products");
  const addForm = document.getElementById("add-product");
  const editor = window.conexoosEditableList({
    list,
    empty: document.getElementById("products-empty"),
    template: document.getElementById("product-template"),
    addForm,
    errorBox: document.getElementById("product-error"),
    routes: {
      list: "/api/products",
      add: "/api/add/product",
      edit: (id) => `/api/edit/product/${id}`,
      remove: (id) => `/api/delete/product/${id}`,
      reorder: "/api/products/reorder",
    },
    fill,
    isLive: (product) => product.enabled,
    name: (product) => `product ${product.title}`,
    readAdd: read,
    readEdit: read,
    added: (product) => { addForm.elements.currency.value = product.currency; }, // the next one is likely the same
  });

  list.addEventListener("change", async (event) => {
    const input = event.target.closest('input[data-action="image"]');
    if (!input || !input.files.length) return;
    const body = new FormData();
    body.append("image", input.files[0]);
    try {
      editor.replaceItem(await window.conexoosApi("POST", `/api/product/${input.closest("[data-id]").record.id}/image`, body));
    } catch (error) {
      editor.show(error);
    }
  });
})();
