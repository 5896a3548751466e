// Score sheet: live character counters for the reasons, the comment and the
// note, and a reminder before leaving with unsaved changes. The page works
// the same without it; the server checks every limit again.
(function () {
  "use strict";
  var form = document.querySelector("form.sheet-form");
  if (!form) { return; }

  function updateCounter(field) {
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    var counter = document.getElementById(field.id + "-counter");
    if (!counter || !limit) { return; }
    // Count code points, as the server does (an emoji is one character).
    var n = Array.from(field.value.replace(/\r\n?/g, "\n").trim()).length;
    var over = n > limit;
    counter.textContent = n + "／" + limit + "字" + (over ? "（" + (n - limit) + "字超過。提出するには短くしてください）" : "");
    counter.classList.toggle("over", over);
  }

  var dirty = false;
  form.querySelectorAll("[data-limit]").forEach(function (field) {
    updateCounter(field);
    field.addEventListener("input", function () { updateCounter(field); });
  });
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty) { return; }
    event.preventDefault();
    event.returnValue = "";
  });
})();
