// A file input with data-max-bytes (the most this site accepts in one request), and maybe data-max-file-bytes
// (the most its own file may be: an image's 8 MB), is checked before its form
// is sent: a larger file would be refused with a 413 page of its own, and what the person typed on the
// form would be lost. The error is said under the field instead, and the form is not sent until a
// smaller file is chosen. Without JavaScript the form is sent and the 413 page says the limit.
(function () {
  "use strict";
  var PART_OVERHEAD = 200;  // bytes of a multipart part's boundary and headers, roughly

  function otherBytes(form) {
    var bytes = 0;
    new FormData(form).forEach(function (value) {
      if (typeof value === "string") bytes += PART_OVERHEAD + 3 * value.length;  // UTF-8, at most
    });
    return bytes;
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1).replace(/\.0$/, "") + " MB";
  }

  function say(input, text) {
    var box = document.getElementById(input.id + "-errors");
    if (box) {
      box.textContent = "";
      if (text) {
        var paragraph = document.createElement("p");
        paragraph.textContent = text;
        box.appendChild(paragraph);
      }
    }
    input.setAttribute("aria-invalid", text ? "true" : "false");
  }

  // Why the chosen file may not be sent (over the field's own limit, data-max-file-bytes, or the request's),
  // or "" when it may.
  function problem(input, file) {
    var fileMost = Number(input.getAttribute("data-max-file-bytes"));
    var most = Number(input.getAttribute("data-max-bytes"));
    var said = "\u201c" + file.name + "\u201d is " + megabytes(file.size);
    if (fileMost && file.size > fileMost) {
      return said + ": an image may be at most " + input.getAttribute("data-max-file-size") +
        ". Choose a smaller file (nothing was sent).";
    }
    if (most && file.size + otherBytes(input.form) > most) {
      return said + ": this site accepts at most " + input.getAttribute("data-max-size") +
        " at once. Choose a smaller file (nothing was sent).";
    }
    return "";
  }

  // Whether the chosen file may be sent; else its error is said under the field.
  function check(input) {
    var file = input.files && input.files[0];
    var text = file ? problem(input, file) : "";
    if (!text) {
      if (input.hasAttribute("data-too-large")) say(input, "");
      input.removeAttribute("data-too-large");
      return true;
    }
    input.setAttribute("data-too-large", "");
    say(input, text);
    return false;
  }

  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    if (!input.form) return;
    input.addEventListener("change", function () { check(input); });
    input.form.addEventListener("submit", function (event) {
      if (check(input)) return;
      event.preventDefault();
      input.focus();
    });
  });
})();
