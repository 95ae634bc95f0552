// The public page's Share button, added only where the browser can share (the Web Share API): without
// JavaScript, or without navigator.share, the page is complete as it is.
(function () {
  "use strict";
  var footer = document.querySelector("footer[data-share-title]");
  if (!footer || typeof navigator.share !== "function") return;
  var canonical = document.querySelector('link[rel="canonical"]');
  var button = document.createElement("button");
  button.type = "button";
  button.className = "share";
  button.textContent = "Share this page";
  button.addEventListener("click", function () {
    navigator.share({
      title: footer.getAttribute("data-share-title") || document.title,
      url: canonical ? canonical.href : window.location.href
    }).catch(function (error) {
      if (error && error.name !== "AbortError") button.textContent = "Sharing failed: copy the address instead";
    });
  });
  footer.insertBefore(document.createTextNode(" · "), footer.firstChild);
  footer.insertBefore(button, footer.firstChild);
})();
