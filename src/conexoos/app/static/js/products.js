// The products editor: every change goes through the JSON API with the page's CSRF token.
(() => {
  "use strict";

  const { money, toMinorUnits, toDecimalText } = window.conexoosMoney;

  // The price typed in the currency's units ("12.50", "12,50"), in minor units; an error is shown under
  // Price, which it names, as the server's error about the currency is shown under Currency.
  function readPrice(form, currency) {
    try {
      return toMinorUnits(form.elements.price.value, currency);
    } catch (error) {
      error.field = "price";
      throw error;
    }
  }

  function read(form) {
    const currency = form.elements.currency.value.trim().toUpperCase();
    return {
      title: form.elements.title.value,
      description: form.elements.description.value,
      price: readPrice(form, currency),
      currency,
      buy_url: form.elements.buy_url.value,
    };
  }

  function fill(item, product) {
    item.querySelector(".thumb").src = product.image_url;
    item.querySelector(".link-title").textContent = product.title;
    item.querySelector(".link-url").textContent = `${money(product)} · ${product.buy_url}`;
    item.querySelector(".link-state").textContent = product.hidden_by_staff
      ? "Hidden by a moderator"
      : product.enabled ? "Shown" : "Hidden";
    const form = item.querySelector(".link-edit");
    form.elements.title.value = product.title;
    form.elements.price.value = toDecimalText(product.price, product.currency);
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
    const row = input.closest("[data-id]");
    const body = new FormData();
    body.append("image", input.files[0]);
    window.conexoosFeedback.clearErrors(row);
    try {
      const product = await window.conexoosApi("POST", `/api/product/${row.record.id}/image`, body);
      // The row is drawn again: focus goes back to its Image control, and the change is said.
      editor.replaceItem(product).querySelector('input[data-action="image"]').focus();
      window.conexoosFeedback.say(`Saved: a new image for product ${product.title}.`);
    } catch (error) {
      input.value = "";
      window.conexoosFeedback.markInvalid(input, error.message); // under the row, named by its Image field
    }
  });
})();
