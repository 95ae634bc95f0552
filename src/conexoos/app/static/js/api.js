// One way to call the JSON API from the dashboard pages: same-origin cookies, the page's CSRF token,
// and the server's {"error": {"message", "field"}} turned into a thrown Error whose `field` names the input
// the server refused (null when the error is about no one field), `code` its code and `status` the HTTP
// status (401: logged out elsewhere; 404 or code "incomplete": the page changed in another tab).
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
      const error = new Error(data && data.error ? data.error.message : `The server answered ${response.status}.`);
      error.field = (data && data.error && data.error.field) || null;
      error.code = (data && data.error && data.error.code) || null;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  window.conexoosApi = call;
})();
