// One way to call the JSON API from the dashboard pages: same-origin cookies, the page's CSRF token,
// and the server's {"error": {"message"}} turned into a thrown Error.
(() => {
  "use strict";
  const token = document.querySelector('meta[name="csrf-token"]').content;

  async function call(method, url, body) {
    const isForm = body instanceof FormData;
    const headers = { Accept: "application/json", "X-CSRFToken": token };
    if (body !== undefined && !isForm) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined || isForm ? body : JSON.stringify(body),
    });
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error(data && data.error ? data.error.message : `The server answered ${response.status}.`);
    }
    return data;
  }

  window.conexoosApi = call;
})();
