// Plan buttons and Manage billing: plain forms, sent as JSON (with the CSRF token) to follow the redirect URL
// the server returns, or say why not in place.
(() => {
  "use strict";
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const errorBox = document.getElementById("plan-error");

  async function post(url, fields) {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error(data && data.error ? data.error.message : `The server answered ${response.status}.`);
    window.location.assign(data.redirect_url);
  }

  // The plan buttons are plain forms too: the script sends them as JSON, so a refusal is said in place.
  for (const form of document.querySelectorAll(".choose-plan-form")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      if (button.disabled) return;
      errorBox.textContent = "";
      button.disabled = true;
      post(form.action, { plan_id: form.elements.plan_id.value }).catch((error) => {
        errorBox.textContent = error.message;
        button.disabled = false;
      });
    });
  }
  // Back from a paid checkout before Stripe's webhook arrived: check the plan every few seconds for a while
  // and reload once it has changed, so the page never keeps showing the old plan after the payment.
  const pending = document.getElementById("payment-pending");
  if (pending) {
    const shown = document.getElementById("current-plan").textContent;
    let checks = 0;
    const timer = setInterval(async () => {
      checks += 1;
      if (checks > 30) {
        clearInterval(timer);
        pending.textContent = "Your payment is still being confirmed: reload this page in a few minutes.";
        return;
      }
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("current-plan");
        if (fresh && fresh.textContent !== shown) {
          clearInterval(timer);
          window.location.reload();
        }
      } catch (error) {
        // Offline for a moment: the next check tries again.
      }
    }, 2000);
  }
  // Manage billing is a plain form: the script only says why it cannot open the portal without a reload.
  const portal = document.getElementById("manage-billing");
  if (portal) {
    portal.addEventListener("submit", (event) => {
      event.preventDefault();
      errorBox.textContent = "";
      post(portal.action, {}).catch((error) => { errorBox.textContent = error.message; });
    });
  }
})();
