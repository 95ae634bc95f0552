// The products editor: every change goes through the JSON API with the page's CSRF token.
(() => {
  "use strict";
  const list = document.getElementById("products");
  const empty = document.getElementById("products-empty");
  const template = document.getElementById("product-template");
  const form = document.getElementById("add-product");
  const errorBox = document.getElementById("product-error");

  const call = window.conexoosApi;

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

  function toMinorUnits(text, currency) {
    const value = Number(String(text).replace(",", ".").trim());
    if (!Number.isFinite(value) || value < 0) throw new Error("Enter a price such as 12.50.");
    return Math.round(value * 10 ** digits(currency));
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
    return item;
  }

  function render(products) {
    list.replaceChildren(...products.map(renderItem));
    empty.hidden = products.length > 0;
  }

  const show = (error) => { errorBox.textContent = error.message; };

  async function persistOrder() {
    const ids = [...list.children].map((item) => Number(item.dataset.id));
    render(await call("POST", "/api/products/reorder", { ids }));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    try {
      const currency = form.elements.currency.value.trim().toUpperCase();
      const product = await call("POST", "/api/add/product", {
        title: form.elements.title.value,
        description: form.elements.description.value,
        price: toMinorUnits(form.elements.price.value, currency),
        currency,
        buy_url: form.elements.buy_url.value,
      });
      list.append(renderItem(product));
      empty.hidden = true;
      form.reset();
      form.elements.currency.value = currency;
    } catch (error) {
      show(error);
    }
  });

  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const item = button.closest(".product-item");
    const product = item.product;
    try {
      if (button.dataset.action === "delete") {
        if (!window.confirm(`Delete “${product.title}”?`)) return;
        await call("DELETE", `/api/delete/product/${product.id}`);
        item.remove();
        empty.hidden = list.children.length > 0;
      } else if (button.dataset.action === "toggle") {
        item.replaceWith(renderItem(await call("PUT", `/api/edit/product/${product.id}`, { enabled: !product.enabled })));
      } else if (button.dataset.action === "up" && item.previousElementSibling) {
        list.insertBefore(item, item.previousElementSibling);
        await persistOrder();
      } else if (button.dataset.action === "down" && item.nextElementSibling) {
        list.insertBefore(item.nextElementSibling, item);
        await persistOrder();
      }
    } catch (error) {
      show(error);
    }
  });

  list.addEventListener("change", async (event) => {
    const input = event.target.closest('input[data-action="image"]');
    if (!input || !input.files.length) return;
    const item = input.closest(".product-item");
    const body = new FormData();
    body.append("image", input.files[0]);
    try {
      item.replaceWith(renderItem(await call("POST", `/api/product/${item.product.id}/image`, body)));
    } catch (error) {
      show(error);
    }
  });

  call("GET", "/api/products").then(render).catch(show);
})();
