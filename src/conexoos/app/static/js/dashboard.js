// The links editor: every change goes through the JSON API with the page's CSRF token.
(() => {
  "use strict";
  const api = window.conexoosApi;
  // Each link's lock ({sensitive, has_passcode}) from /api/links/locks: the seed's link shape has none.
  const locks = new Map();
  // The lock an edit form sent, per link id: it becomes the link's lock once that save succeeds.
  const sentLocks = new Map();
  // The ids of the links with an uploaded thumbnail (from /api/links/icons): only they offer "Remove the icon".
  const thumbnails = new Set();

  function toLocalInput(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    const offset = date.getTimezoneOffset() * 60000;
    return new Date(date.getTime() - offset).toISOString().slice(0, 16);
  }

  // The times the server keeps (fields.py's EARLIEST_TIME and LATEST_TIME), in its words.
  const EARLIEST = Date.UTC(1970, 0, 1);
  const LATEST = Date.UTC(9999, 11, 31);
  const outOfRange = (name) => `${name} must fall between 1970-01-01 00:00 and 9999-12-31 00:00 (UTC)`;

  // An error the editor shows under the field `name` (in the words of its label, as the server's).
  function refused(name, message) {
    const error = new Error(message);
    error.field = name;
    return error;
  }

  // The ISO time of the form's `name` input, or null when it is empty. The date picker offers years up to
  // 275760: past the server's last time, or past what a Date can write at all (a RangeError "Invalid time
  // value"), it is refused here with the server's sentence.
  function fromLocalInput(form, name) {
    const value = form.elements[name].value;
    if (!value) return null;
    const time = new Date(value).getTime();
    if (!(time >= EARLIEST && time <= LATEST)) throw refused(name, outOfRange(name));
    return new Date(time).toISOString();
  }

  // The words of an input's label ("Show from"), for a message that names another field than its own.
  const labelOf = (input) => input.labels[0].firstChild.textContent.trim();

  // The link's time window, refused here when it ends before it starts: the server's "ends_at must be
  // later than starts_at" would read "Hide from must be later than starts_at" under Hide from.
  function readWindow(form) {
    const times = { starts_at: fromLocalInput(form, "starts_at"), ends_at: fromLocalInput(form, "ends_at") };
    if (times.starts_at && times.ends_at && times.ends_at <= times.starts_at) {
      throw refused("ends_at", `ends_at must be later than ${labelOf(form.elements.starts_at)}`);
    }
    return times;
  }

  // The server's rule for a link on the public page: enabled, and inside its time window.
  function isLive(link) {
    const now = new Date();
    return link.enabled && !(link.starts_at && new Date(link.starts_at) > now) && !(link.ends_at && new Date(link.ends_at) <= now);
  }

  function describeLock(link) {
    const lock = locks.get(link.id);
    if (!lock) return "";
    if (lock.has_passcode && lock.sensitive) return " · Locked: confirmation and password";
    if (lock.has_passcode) return " · Locked: password";
    return lock.sensitive ? " · Locked: confirmation (adult content)" : "";
  }

  function describeState(link) {
    return describeTime(link) + describeLock(link);
  }

  function describeTime(link) {
    if (link.hidden_by_staff) return "Hidden by a moderator";
    if (!link.enabled) return "Hidden";
    const now = new Date();
    if (link.starts_at && new Date(link.starts_at) > now) return `Shows from ${new Date(link.starts_at).toLocaleString()}`;
    if (link.ends_at && new Date(link.ends_at) <= now) return "Ended";
    if (link.ends_at) return `Until ${new Date(link.ends_at).toLocaleString()}`;
    return "Live";
  }

  window.conexoosTimeWindow = describeTime; // the page layout's blocks with a time window say it too (blocks.js)

  function fill(item, link) {
    item.querySelector(".link-title").textContent = link.title;
    item.querySelector(".link-url").textContent = link.url;
    item.querySelector(".link-state").textContent = describeState(link);
    const form = item.querySelector(".link-edit");
    form.elements.title.value = link.title;
    form.elements.url.value = link.url;
    form.elements.starts_at.value = toLocalInput(link.starts_at);
    form.elements.ends_at.value = toLocalInput(link.ends_at);
    const lock = locks.get(link.id) || { sensitive: false, has_passcode: false };
    form.elements.sensitive.checked = lock.sensitive;
    form.elements.passcode.value = "";
    form.elements.remove_passcode.checked = false;
    item.querySelector(".remove-passcode").hidden = !lock.has_passcode;
    item.querySelector(".remove-icon").hidden = !thumbnails.has(link.id);
    item.querySelector(".passcode-state").textContent = lock.has_passcode
      ? "A password is set: type a new one to change it."
      : "No password: leave empty for none.";
  }

  function readLock(form, id) {
    const lock = { sensitive: form.elements.sensitive.checked };
    if (form.elements.remove_passcode.checked) lock.passcode = "";
    else if (form.elements.passcode.value) lock.passcode = form.elements.passcode.value;
    const before = locks.get(id) || { has_passcode: false };
    const hasPasscode = "passcode" in lock ? lock.passcode !== "" : before.has_passcode;
    sentLocks.set(id, { sensitive: lock.sensitive, has_passcode: hasPasscode }); // see `edited`
    return lock;
  }

  // A refused save leaves the link's lock as it was: only a saved one becomes it.
  function edited(link) {
    if (sentLocks.has(link.id)) locks.set(link.id, sentLocks.get(link.id));
    sentLocks.delete(link.id);
  }

  // The thumbnail goes up on its own request (multipart) before the edit form's fields; the server's
  // refusal is shown under the Icon field, and the form stays open. True when one was saved.
  async function uploadIcon(form, link) {
    const file = form.elements.icon.files[0];
    if (!file) return false;
    const body = new FormData();
    body.append("icon", file);
    try {
      await api("POST", `/api/link/${link.id}/icon`, body);
      thumbnails.add(link.id); // the row drawn after the save offers to remove it
    } catch (error) {
      error.field = error.field || "icon";
      throw error;
    }
    form.elements.icon.value = "";
    return true;
  }

  function start() {
    const editor = window.conexoosEditableList({
      list: document.getElementById("links"),
      empty: document.getElementById("empty"),
      template: document.getElementById("link-template"),
      addForm: document.getElementById("add-link"),
      errorBox: document.getElementById("form-error"),
      routes: {
        list: "/api/links",
        add: "/api/add/link",
        edit: (id) => `/api/edit/link/${id}`,
        remove: (id) => `/api/delete/link/${id}`,
        reorder: "/api/links/reorder",
      },
      fill,
      isLive,
      name: (link) => `link ${link.title}`,
      beforeEdit: uploadIcon,
      edited,
      readAdd: (form) => ({ title: form.elements.title.value, url: form.elements.url.value }),
      readEdit: (form) => ({
        title: form.elements.title.value,
        url: form.elements.url.value,
        ...readWindow(form),
        ...readLock(form, form.closest("[data-id]").record.id),
      }),
    });
    const list = document.getElementById("links");
    list.addEventListener("click", (event) => {
      const button = event.target.closest('button[data-action="remove-icon"]');
      if (!button) return;
      const said = button.closest("form").querySelector(".errors");
      const id = button.closest("[data-id]").record.id;
      api("DELETE", `/api/link/${id}/icon`)
        .then(() => {
          thumbnails.delete(id);
          said.textContent = "The icon is removed: the page shows the brand icon again, if any.";
          said.closest("form").elements.icon.focus(); // the button is hidden now: focus on the Icon field
          button.hidden = true;
        })
        .catch((error) => { said.textContent = error.message; });
    });
  }

  api("GET", "/api/links/locks")
    .then((rows) => rows.forEach((row) => locks.set(row.id, row)))
    .catch((error) => {
      // The editor still works; the lock fields show their defaults, and the owner is told why.
      document.getElementById("form-error").textContent = `Your links' locks could not be read: ${error.message}`;
    })
    .finally(start);
  // Read alongside (the editor does not wait for it): rows drawn before it arrives are updated then.
  api("GET", "/api/links/icons")
    .then((rows) => {
      rows.forEach((row) => { if (row.thumbnail) thumbnails.add(row.id); });
      for (const item of document.querySelectorAll("#links [data-id]")) {
        item.querySelector(".remove-icon").hidden = !thumbnails.has(item.record?.id);
      }
    })
    .catch((error) => { // "Remove the icon" stays hidden; the owner is told why
      document.getElementById("form-error").append(` Your links' icons could not be read: ${error.message}`);
    });
})();
