// The statistics page: loads /api/stats for the chosen range in the browser's time zone,
// draws the chart as SVG, and bumps the counters when a click arrives over Socket.IO.
(() => {
  "use strict";
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const form = document.getElementById("range");
  const errorBox = document.getElementById("stats-error");
  const svgNS = "http://www.w3.org/2000/svg";
  let current = null;

  const isoDay = (date) => {
    const offset = date.getTimezoneOffset() * 60000;
    return new Date(date.getTime() - offset).toISOString().slice(0, 10);
  };
  const today = () => isoDay(new Date());
  const percent = (value) => `${(value * 100).toFixed(1)}%`;
  const setText = (id, value) => { document.getElementById(id).textContent = String(value); };

  function applyPreset() {
    const preset = form.elements.preset.value;
    const custom = preset === "custom";
    form.elements.from.disabled = !custom;
    form.elements.to.disabled = !custom;
    if (custom) return;
    const start = new Date();
    start.setDate(start.getDate() - Number(preset));
    form.elements.from.value = isoDay(start);
    form.elements.to.value = today();
  }

  function queryString() {
    return new URLSearchParams({ from: form.elements.from.value, to: form.elements.to.value, tz: zone }).toString();
  }

  // Views and clicks reach the figures through a write buffer flushed every second or so, while their live
  // events come at once: an event that lands while the figures are loading may or may not be in them, so
  // it is not added twice; the figures are loaded again once the buffer has had time to flush it.
  const SETTLE_MS = 2000;
  let loading = null;
  let eventsWhileLoading = false;
  let loadAgain = false;  // asked for while a load was running (another range): load once it is done

  function reload() {
    if (loading) {
      loadAgain = true;
      return loading;
    }
    loading = load().finally(() => {
      loading = null;
      if (loadAgain) {
        loadAgain = false;
        reload().catch(showError);
      } else if (eventsWhileLoading) {
        eventsWhileLoading = false;
        setTimeout(() => reload().catch(showError), SETTLE_MS);
      }
    });
    return loading;
  }

  async function load() {
    clearErrors();
    const query = queryString();
    document.getElementById("csv-link").href = `/api/stats.csv?${query}`;
    const response = await fetch(`/api/stats?${query}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = await response.json();
    if (!response.ok) {
      const error = new Error(data.error ? data.error.message : `The server answered ${response.status}.`);
      error.field = data.error ? data.error.field : null;
      throw error;
    }
    current = data;
    render();
  }

  function render() {
    const totals = current.totals;
    setText("total-views", totals.views);
    setText("total-clicks", totals.clicks);
    setText("total-uniques", totals.unique_visitors);
    setText("total-ctr", percent(totals.click_through_rate));
    setText("total-product-clicks", totals.product_clicks);
    renderRows("links-table", current.links, "linkId");
    renderRows("products-table", current.products, "productId");
    renderLocks(current.locks || []);
    for (const [name, items] of Object.entries(current.top)) renderTop(name, items);
    drawChart(current.daily);
  }

  // One row per link or product: title, clicks, clicks per page view.
  function renderRows(tableId, items, idKey) {
    const body = document.getElementById(tableId);
    body.replaceChildren(...items.map((item) => {
      const row = document.createElement("tr");
      row.dataset[idKey] = String(item.id);
      for (const value of [item.title, item.clicks, percent(item.click_through_rate)]) {
        const cell = document.createElement("td");
        cell.textContent = String(value);
        row.append(cell);
      }
      return row;
    }));
  }

  // Locked links: how often the lock was shown at /go/<id> and how often visitors passed it.
  function renderLocks(items) {
    document.getElementById("locks-card").hidden = items.length === 0;
    document.getElementById("locks-table").replaceChildren(...items.map((item) => {
      const row = document.createElement("tr");
      row.dataset.linkId = String(item.id);
      for (const value of [item.title, item.lock_views, item.unlocks]) {
        const cell = document.createElement("td");
        cell.textContent = String(value);
        row.append(cell);
      }
      return row;
    }));
  }

  function renderTop(name, items) {
    const list = document.getElementById(`top-${name}`);
    if (!list) return;
    if (!items.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "No data yet";
      list.replaceChildren(empty);
      return;
    }
    list.replaceChildren(...items.map((item) => {
      const entry = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = item.value;
      const count = document.createElement("strong");
      count.textContent = String(item.count);
      entry.append(label, count);
      return entry;
    }));
  }

  function drawChart(daily) {
    // Drawn at the box's real width, so the labels keep their size on a phone instead of shrinking with it.
    const chart = document.getElementById("chart");
    const width = Math.max(240, Math.round(chart.clientWidth) || 640), height = 220, pad = 28;
    const max = Math.max(1, ...daily.map((d) => Math.max(d.views, d.clicks)));
    const x = (i) => pad + (daily.length === 1 ? (width - 2 * pad) / 2 : (i * (width - 2 * pad)) / (daily.length - 1));
    const y = (v) => height - pad - (v * (height - 2 * pad)) / max;
    const svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("class", "chart-svg");
    const axis = document.createElementNS(svgNS, "path");
    axis.setAttribute("d", `M${pad} ${pad} V${height - pad} H${width - pad}`);
    axis.setAttribute("class", "axis");
    svg.append(axis);
    for (const [key, css] of [["views", "line-views"], ["clicks", "line-clicks"]]) {
      const line = document.createElementNS(svgNS, "polyline");
      line.setAttribute("points", daily.map((d, i) => `${x(i).toFixed(1)},${y(d[key]).toFixed(1)}`).join(" "));
      line.setAttribute("class", css);
      svg.append(line);
    }
    const labels = [[pad, daily[0].date], [width - pad, daily[daily.length - 1].date]];
    for (const [position, text] of labels) {
      const label = document.createElementNS(svgNS, "text");
      label.setAttribute("x", String(position));
      label.setAttribute("y", String(height - 6));
      label.setAttribute("text-anchor", position === pad ? "start" : "end");
      label.textContent = text;
      svg.append(label);
    }
    const top = document.createElementNS(svgNS, "text");
    top.setAttribute("x", "2");
    top.setAttribute("y", String(pad));
    top.textContent = String(max);
    svg.append(top);
    chart.replaceChildren(svg);
  }

  function onLiveEvent(name, data) {
    if (name !== "stats:event" || !["click", "unlock", "lockview", "view", "buy"].includes(data.kind)) return;
    if (loading || !current) { eventsWhileLoading = true; return; }
    if (current.range.to < today()) return;
    const day = current.daily.find((entry) => entry.date === today());
    if (data.kind === "view") {
      current.totals.views += 1;
      if (day) day.views += 1;
    }
    const isClick = data.kind === "click" || data.kind === "unlock";  // unlock: a click through a link's lock
    const link = isClick ? current.links.find((item) => item.id === data.link_id) : null;
    if (isClick) {
      current.totals.clicks += 1;
      if (link) link.clicks += 1;
      if (day) day.clicks += 1;
    }
    if (data.kind === "lockview" || data.kind === "unlock") countLock(data);
    if (data.kind === "buy") {  // a product click: link_id holds the product's id
      current.totals.product_clicks += 1;
      const product = current.products.find((item) => item.id === data.link_id);
      if (product) product.clicks += 1;
      if (day) day.product_clicks += 1;
    }
    const views = current.totals.views;
    current.totals.click_through_rate = views ? current.totals.clicks / views : 0;
    for (const item of [...current.links, ...current.products]) item.click_through_rate = views ? item.clicks / views : 0;
    render();
  }

  // A locked link's row in "Locked links" (added when the link was locked after the report was loaded).
  function countLock(data) {
    current.locks = current.locks || [];
    let lock = current.locks.find((item) => item.id === data.link_id);
    if (!lock) {
      const link = current.links.find((item) => item.id === data.link_id);
      lock = { id: data.link_id, title: link ? link.title : `Link ${data.link_id}`, lock_views: 0, unlocks: 0 };
      current.locks.push(lock);
    }
    if (data.kind === "lockview") lock.lock_views += 1;
    else lock.unlocks += 1;
  }

  const status = { live: "Live updates: on", offline: "Live updates: reconnecting…", refused: "Live updates: off" };
  form.elements.preset.addEventListener("change", () => { applyPreset(); if (form.elements.preset.value !== "custom") reload().catch(showError); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (form.elements.to.value && form.elements.to.value < form.elements.from.value) {
      clearErrors();
      showError(outOfOrder(), true);
      return;
    }
    reload().catch((error) => showError(error, true));
  });
  // Bound: the range can be sent now (its disabled <fieldset class="needs-script">, as in feedback.js).
  form.querySelector("fieldset.needs-script").disabled = false;
  // The API's "to must be on or after from" names its parameters; the page names its fields.
  function outOfOrder() {
    const error = new Error("The To date must be on or after the From date.");
    error.field = "to";
    return error;
  }

  // An error about one of the dates is said next to it, in the words of its label ("from must be between
  // …" reads "From must be between …"), and the date is marked invalid and described by it; it is focused
  // when the person asked for the range (never by a reload a live update started). Any other error, or one
  // about a date the chosen preset filled in, is said in the page's box.
  function showError(error, focus = false) {
    const control = ["from", "to"].includes(error.field) ? form.elements[error.field] : null;
    if (!control || control.disabled) {
      errorBox.textContent = error.message;
      return;
    }
    const label = control.labels[0].firstChild.textContent.trim();
    const text = error.message.startsWith(`${error.field} `) ? label + error.message.slice(error.field.length) : error.message;
    const message = document.createElement("p");
    message.className = "field-error";
    message.id = `stats-error-${error.field}`;
    message.textContent = `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;
    control.closest("label").after(message);
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", message.id);
    if (focus) control.focus();
  }

  function clearErrors() {
    errorBox.textContent = "";
    for (const message of form.querySelectorAll(".field-error")) message.remove();
    for (const control of [form.elements.from, form.elements.to]) {
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
    }
  }
  let drawnWidth = 0;
  window.addEventListener("resize", () => {
    const width = Math.round(document.getElementById("chart").clientWidth);
    if (current && width !== drawnWidth) { drawnWidth = width; drawChart(current.daily); }
  });
  applyPreset();
  reload().catch(showError);
  // Clicks that land while the socket is down are never sent again: reload the figures once it is back.
  let missedEvents = false;
  window.conexoosLive(onLiveEvent, (state) => {
    setText("live-status", status[state]);
    if (state === "offline") missedEvents = true;
    if (state === "live" && missedEvents) {
      missedEvents = false;
      reload().catch(showError);
    }
  });
})();
