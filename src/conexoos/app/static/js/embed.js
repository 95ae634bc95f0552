// Embeds on a public page: a card links out to the provider; a plain click swaps in the provider's player,
// so no request reaches the provider before the visitor asks. The CSP's frame-src allows only these hosts.
// The page includes this script once, in its head (EmbedKind.script), however many embeds it shows.
(() => {
  "use strict";
  const PLAYERS = /^https:\/\/(www\.youtube-nocookie\.com|player\.vimeo\.com|open\.spotify\.com|w\.soundcloud\.com)\//;

  document.addEventListener("click", (event) => {
    const card = event.target.closest(".embed-card");
    if (!card || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const figure = card.closest(".embed");
    const source = figure.dataset.player;
    if (!PLAYERS.test(source)) return; // follow the link instead
    event.preventDefault();
    const frame = document.createElement("iframe");
    frame.className = "embed-frame";
    frame.src = source;
    frame.title = card.querySelector(".embed-title").textContent;
    frame.allow = "autoplay; encrypted-media; fullscreen; picture-in-picture";
    frame.referrerPolicy = "strict-origin-when-cross-origin";
    frame.setAttribute("allowfullscreen", "");
    figure.replaceChildren(frame);
    frame.focus();
  });
})();
