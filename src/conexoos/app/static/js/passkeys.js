// Passkey ceremonies (WebAuthn): add a passkey in settings, log in with one (button or autofill), or
// confirm a login with one. Each asks its data-options-url for options, calls navigator.credentials, and
// posts the answer to its data-finish-url; the server answers {"redirect": url} or {"error": {message}}.
// Without JavaScript or WebAuthn the password forms work as before.
(() => {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
  };
  const toText = (buffer) => {
    let binary = "";
    new Uint8Array(buffer).forEach((byte) => { binary += String.fromCharCode(byte); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const descriptors = (list) => (list || []).map((item) => ({ ...item, id: toBytes(item.id) }));

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    const field = document.querySelector('input[name="csrf_token"]');
    return meta ? meta.content : field ? field.value : "";
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error(data && data.error ? data.error.message : `The server answered ${response.status}.`);
      error.code = data && data.error ? data.error.code : "";
      throw error;
    }
    return data;
  }

  function encodeCredential(credential) {
    const response = credential.response;
    const encoded = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      encoded.response.attestationObject = toText(response.attestationObject);
      encoded.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      encoded.response.authenticatorData = toText(response.authenticatorData);
      encoded.response.signature = toText(response.signature);
      encoded.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return encoded;
  }

  function requestOptions(options) {
    return { ...options, challenge: toBytes(options.challenge), allowCredentials: descriptors(options.allowCredentials) };
  }

  function creationOptions(options) {
    return {
      ...options,
      challenge: toBytes(options.challenge),
      user: { ...options.user, id: toBytes(options.user.id) },
      excludeCredentials: descriptors(options.excludeCredentials),
    };
  }

  function describe(error) {
    if (error && error.name === "NotAllowedError") return "The passkey request was cancelled or timed out.";
    if (error && error.name === "InvalidStateError") return "This device already holds a passkey for your account.";
    if (error && error.name === "SecurityError") return "This browser refuses passkeys for this address.";
    return (error && error.message) || "Something went wrong. Try again.";
  }

  function withNext(url) {
    const next = new URLSearchParams(window.location.search).get("next");
    return next ? `${url}?next=${encodeURIComponent(next)}` : url;
  }

  // Log in: the "Sign in with a passkey" button, or the browser's autofill on the username field.
  function setUpSignIn(box) {
    const status = box.querySelector(".passkey-error");
    let pending = null;
    async function signIn(mediation) {
      if (pending) pending.abort();
      const controller = new AbortController();
      pending = controller;
      status.textContent = "";
      try {
        const options = await post(box.dataset.optionsUrl);
        const request = { publicKey: requestOptions(options), signal: controller.signal };
        if (mediation) request.mediation = mediation;
        const credential = await navigator.credentials.get(request);
        const done = await post(withNext(box.dataset.finishUrl), encodeCredential(credential));
        window.location.assign(done.redirect);
      } catch (error) {
        if (controller.signal.aborted) return; // replaced by another request
        if (error && error.code === "login_again") {
          window.location.assign(box.dataset.loginUrl || "/login");
          return;
        }
        status.textContent = describe(error);
      }
    }
    box.hidden = false;
    box.querySelector(".passkey-start").addEventListener("click", () => signIn(null));
    const autofill = document.querySelector('input[autocomplete~="webauthn"]');
    if (autofill && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
        if (available) signIn("conditional");
      });
    }
  }

  // Settings: name + password (or a code), then the device creates the passkey.
  function setUpRegistration(form) {
    const status = form.querySelector(".passkey-error");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.textContent = "";
      const fields = new FormData(form);
      try {
        const options = await post(form.dataset.optionsUrl, {
          name: fields.get("name") || "",
          confirmation: fields.get("confirmation") || "",
        });
        const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
        const done = await post(form.dataset.finishUrl, encodeCredential(credential));
        window.location.assign(done.redirect);
      } catch (error) {
        status.textContent = describe(error);
      }
    });
    // Bound: the form can be sent now. Until then its disabled <fieldset class="needs-script"> kept the
    // password out of a GET of the page's URL (as in feedback.js).
    form.querySelector("fieldset.needs-script").disabled = false;
  }

  const signIn = document.getElementById("passkey-login");
  if (signIn) setUpSignIn(signIn);
  const secondFactor = document.getElementById("passkey-second-factor");
  if (secondFactor) setUpSignIn(secondFactor);
  const registration = document.getElementById("passkey-register");
  if (registration) setUpRegistration(registration);
})();
