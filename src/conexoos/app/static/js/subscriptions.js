// Plan buttons: POST the plan id (with the CSRF token) and follow the redirect URL the server returns.
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

  for (const button of document.querySelectorAll(".choose-plan")) {
    button.addEventListener("click", () => {
      errorBox.textContent = "";
      button.disabled = true;
      post("/subscriptions/checkout", { plan_id: button.dataset.plan }).catch((error) => {
        errorBox.textContent = error.message;
        button.disabled = false;
      });
    });
  }
  const portal = document.getElementById("open-portal");
  if (portal) portal.addEventListener("click", () => post("/subscriptions/portal", {}).catch((error) => { errorBox.textContent = error.message; }));
})();
