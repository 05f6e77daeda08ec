// Shows a question only when the question it depends on has the expected answer. Without this
// script every question shows, and the server ignores the answers of hidden questions anyway.
(function () {
  "use strict";
  function values(form, key) {
    var found = [];
    form.querySelectorAll('[name="' + key + '"]').forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      if (input.tagName === "SELECT" && input.multiple) {
        Array.prototype.forEach.call(input.selectedOptions, function (o) { found.push(o.value); });
        return;
      }
      found.push((input.value || "").trim());
    });
    return found;
  }
  function shown(form, row) {
    var key = row.getAttribute("data-condition-key");
    if (!key) return true;
    var parent = form.querySelector('[data-question="' + key + '"]');
    if (parent && parent.hidden) return false;
    return values(form, key).indexOf(row.getAttribute("data-condition-value")) !== -1;
  }
  function refresh(form) {
    // Conditions may chain: repeat until nothing changes (a chain is at most as long as the form).
    var rows = form.querySelectorAll("[data-condition-key]");
    for (var pass = 0; pass <= rows.length; pass++) {
      var changed = false;
      rows.forEach(function (row) {
        var hide = !shown(form, row);
        if (row.hidden !== hide) { row.hidden = hide; changed = true; }
      });
      if (!changed) break;
    }
  }
  document.querySelectorAll("form[data-conditional-form]").forEach(function (form) {
    form.querySelectorAll(".condition-note").forEach(function (note) { note.hidden = true; });
    form.addEventListener("change", function () { refresh(form); });
    form.addEventListener("input", function () { refresh(form); });
    refresh(form);
  });
})();
