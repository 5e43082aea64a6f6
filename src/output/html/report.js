// Sorting, filtering and the attribution model switcher. The page reads fine without it.
(function () {
  "use strict";
  // A cell's sort key: its data-v (raw number) or its text; numbers without their
  // thousands separators and % sign, a missing number ("–") below every other.
  function key(cell, numeric) {
    var v = cell.getAttribute("data-v");
    if (v === null) v = cell.textContent;
    if (!numeric) return v.toLowerCase();
    var n = parseFloat(v.replace(/[^0-9.eE+-]/g, ""));
    return isNaN(n) ? -Infinity : n;
  }
  function sortBy(table, th, index) {
    var numeric = th.hasAttribute("data-num");
    // First click: numbers largest first, text A to Z; the next click reverses.
    var first = numeric ? "descending" : "ascending";
    var now = th.getAttribute("aria-sort");
    var order = now === first ? (numeric ? "ascending" : "descending") : first;
    var sign = order === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { row: row, key: key(row.cells[index], numeric), i: i };
    });
    rows.sort(function (a, b) {
      if (a.key < b.key) return -sign;
      if (a.key > b.key) return sign;
      return a.i - b.i;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", order);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.data"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.querySelector("button").addEventListener("click", function () { sortBy(table, th, index); });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("input.filter"), function (input) {
    var card = input.closest(".card");
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(card.querySelectorAll("tbody tr"), function (row) {
        row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
  var model = document.getElementById("attribution-model");
  if (model) {
    model.addEventListener("change", function () {
      Array.prototype.forEach.call(document.querySelectorAll("[data-model]"), function (div) {
        div.hidden = div.getAttribute("data-model") !== model.value;
      });
    });
  }
})();
