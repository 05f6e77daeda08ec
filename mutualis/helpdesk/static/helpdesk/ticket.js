// The ticket page's reply area: choosing "Note privée" marks the whole area (colour and the
// sentence saying the note stays with the operator) and names the button accordingly; without
// this script the radio buttons alone still choose. Loaded as a file (CSP: script-src 'self').
(function () {
  "use strict";
  function setUp(root) {
    var form = root.querySelector(".hd-reply-form");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var area = form.closest(".hd-reply");
    var button = form.querySelector("button[type=submit]");
    var labels = { public: button.textContent, private: form.dataset.privateLabel || button.textContent };
    function update() {
      var priv = form.querySelector("input[name=is_private][value=true]");
      var on = priv && priv.checked;
      area.classList.toggle("private-mode", !!on);
      button.textContent = on ? labels.private : labels.public;
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "is_private") update();
    });
    update();
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  // The live region (« Mis à jour par… », « Aussi sur cette demande… ») is polled every 10 s:
  // swapping in the same words again would make screen readers repeat them, so it is left alone.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "hd-live" && event.detail.serverResponse.trim() === target.innerHTML.trim()) {
      event.detail.shouldSwap = false;
    }
  });
})();
