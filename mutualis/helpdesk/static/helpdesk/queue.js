// The staff queue's enhancements. Without this script the queue still works: the bulk form shows
// under the table with all its fields, and every row is reached by its link.
// With it: the bulk bar appears only once a row is ticked (with the count), shows the fields of
// the chosen operation, and the keyboard moves between rows (j/k or the arrows once on a row,
// Enter opens, x ticks, ? shows the shortcuts), never while one types in a field.
(function () {
  "use strict";
  var form = document.querySelector("form[data-queue]");
  if (!form) return;
  var rows = Array.prototype.slice.call(form.querySelectorAll("tbody tr[data-href]"));
  var bar = form.querySelector("[data-bulk]");
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="tickets"]'));
  var all = form.querySelector(".hd-select-all");
  var current = -1;

  // -- the bulk bar ------------------------------------------------------------------------------
  function ticked() {
    return boxes.filter(function (box) { return box.checked; }).length;
  }
  function showOperation() {
    if (!bar) return;
    var operation = bar.querySelector('select[name="operation"]');
    bar.querySelectorAll("fieldset[data-operation]").forEach(function (set) {
      set.hidden = operation && set.getAttribute("data-operation") !== operation.value;
    });
  }
  function refresh() {
    var n = ticked();
    rows.forEach(function (row) {
      var box = row.querySelector('input[name="tickets"]');
      row.classList.toggle("hd-ticked", !!(box && box.checked));
    });
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    if (!bar) return;
    bar.hidden = n === 0;
    var count = bar.querySelector("[data-bulk-count]");
    if (count) {
      count.textContent = n === 1 ? count.getAttribute("data-one")
        : count.getAttribute("data-many").replace("%(n)s", String(n));
    }
  }
  if (bar) {
    bar.classList.add("hd-bulk-floating");
    var clear = bar.querySelector("[data-bulk-clear]");
    if (clear) {
      clear.hidden = false;
      clear.addEventListener("click", function () {
        boxes.forEach(function (box) { box.checked = false; });
        refresh();
      });
    }
    var operation = bar.querySelector('select[name="operation"]');
    if (operation) operation.addEventListener("change", showOperation);
    showOperation();
  }
  if (all && boxes.length) {
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      refresh();
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "tickets") refresh();
  });
  refresh();

  // -- keyboard ----------------------------------------------------------------------------------
  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) return true;
    return tag === "INPUT" && ["checkbox", "radio", "button", "submit"].indexOf(target.type) < 0;
  }
  function move(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) {
      row.classList.toggle("hd-current", i === current);
      if (i !== current) row.removeAttribute("tabindex");
    });
    var row = rows[current];
    row.setAttribute("tabindex", "-1");
    row.focus();
  }
  rows.forEach(function (row, i) {
    row.addEventListener("focusin", function () {
      current = i;
      rows.forEach(function (other, j) { other.classList.toggle("hd-current", j === i); });
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var onRow = current >= 0 && rows[current] && rows[current].contains(document.activeElement);
    var key = event.key;
    if (key === "j" || (key === "ArrowDown" && onRow)) {
      move(current + 1);
    } else if (key === "k" || (key === "ArrowUp" && onRow)) {
      move(current < 0 ? 0 : current - 1);
    } else if (key === "Enter" && onRow && document.activeElement === rows[current]) {
      window.location.assign(rows[current].getAttribute("data-href"));
    } else if (key === "x" && current >= 0) {
      var box = rows[current].querySelector('input[name="tickets"]');
      if (!box) return;
      box.checked = !box.checked;
      refresh();
    } else if (key === "?") {
      var help = document.getElementById("hd-shortcuts");
      if (!help) return;
      help.open = true;
      help.querySelector("summary").focus();
    } else {
      return;
    }
    event.preventDefault();
  });
})();
