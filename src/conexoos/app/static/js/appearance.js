// Settings → Appearance, enhanced: the preview follows the form as it changes (the server computes the
// custom properties and the contrast, so the preview is exactly what saving would give), and the parts of
// the form that do not apply to the chosen background or colours are hidden. Without JavaScript, the
// "Preview" button does the same through a full page.
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-url]");
  var preview = document.getElementById("appearance-preview");
  var status = document.getElementById("preview-status");
  var contrast = document.getElementById("contrast-errors");
  if (!form || !preview || !window.fetch || !window.FormData) return;
  var pending = null;
  var sequence = 0;

  function checked(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function showRelevantGroups() {
    form.querySelectorAll("[data-shown-for]").forEach(function (group) {
      var rule = group.getAttribute("data-shown-for").split("=");
      group.hidden = rule[1].split(" ").indexOf(checked(rule[0])) === -1;
    });
  }

  function say(element, text) {
    element.textContent = "";
    if (text) {
      var paragraph = document.createElement("p");
      paragraph.textContent = text;
      element.appendChild(paragraph);
    }
  }

  // Each refusal is shown next to the field that caused it (its "<name>-errors" box, which the field's
  // aria-describedby names, as after Save): a bad value under that field, failing contrast under the
  // field whose change made it fail, until it passes again.
  var changedField = "";
  var contrastField = "";

  function sayAt(name, text) {
    var box = name && document.getElementById(name + "-errors");
    if (!box) return false;
    say(box, text);
    var field = document.getElementById(name) || box.closest("fieldset");
    if (field) field.setAttribute("aria-invalid", text ? "true" : "false");
    return true;
  }

  // A file too large for the site (file_size.js) keeps its error: the preview never sends the file.
  function clearFieldErrors() {
    form.querySelectorAll('[aria-invalid="true"]:not([data-too-large])').forEach(function (field) {
      // Its errors box is named last (the theme names its hint first).
      sayAt(field.getAttribute("aria-describedby").split(" ").pop().replace(/-errors$/, ""), "");
    });
  }

  function apply(answer) {
    Object.keys(answer.properties).forEach(function (name) {
      preview.style.setProperty(name, answer.properties[name]);
    });
    var problems = answer.problems.length ? answer.problems.join(". ") + "." : "";
    clearFieldErrors();
    if (!problems) contrastField = "";
    else if (!contrastField) contrastField = changedField;
    say(contrast, "");
    if (!sayAt(contrastField, problems)) say(contrast, problems);
    status.textContent = problems ? "Preview updated: this would not be saved." : "Preview updated.";
  }

  function refuse(error) {
    clearFieldErrors();
    if (!sayAt(error.field, error.message)) say(contrast, error.message);
    status.textContent = "Preview not updated: " + error.message;
  }

  function refresh() {
    var data = new FormData(form);
    data.delete("background_image");
    var mine = ++sequence;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      if (mine !== sequence) return;  // an older answer arriving late
      if (result.ok) apply(result.answer);
      else refuse(result.answer.error);
    }).catch(function () {
      status.textContent = "The preview could not be updated; use the Preview button.";
    });
  }

  function changed(event) {
    if (event.target.name) changedField = event.target.name;
    showRelevantGroups();
    clearTimeout(pending);
    pending = setTimeout(refresh, 150);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  showRelevantGroups();
})();
