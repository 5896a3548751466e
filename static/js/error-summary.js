// Error summaries and links to fields ("#title", "#desired_forms"): the
// field itself gets the focus, not just the scroll position, so keyboard and
// screen-reader users land where they need to type. Also used when a link
// arrives from another page (提出前の確認 -> 編集画面#period_start).
(function () {
  "use strict";
  var CONTROLS = "input:not([type=hidden]), select, textarea, button";

  function targetOf(hash) {
    if (!hash || hash.length < 2) { return null; }
    var id;
    try { id = decodeURIComponent(hash.slice(1)); } catch (e) { return null; }
    return document.getElementById(id);
  }

  // A control, a fieldset (its first control) or an element that opted in
  // with tabindex="-1" (such as the budget totals); anything else keeps the
  // browser's own behaviour.
  function focusTarget(el) {
    if (!el) { return false; }
    var control = null;
    if (el.matches(CONTROLS)) { control = el; }
    else if (el.tagName === "FIELDSET") { control = el.querySelector(CONTROLS); }
    var focusable = control || (el.hasAttribute("tabindex") ? el : null);
    if (!focusable) { return false; }
    // Show the field's label (or the group's legend) too, not just the box.
    var label = control && control.id ? document.querySelector("label[for='" + control.id + "']") : null;
    var legend = el.tagName === "FIELDSET" ? el.querySelector("legend") : null;
    var visible = legend || (label && label.offsetParent !== null ? label : null) || focusable;
    focusable.focus({ preventScroll: true });
    visible.scrollIntoView({ block: "center" });
    return document.activeElement === focusable;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".error-summary a[href*='#'], a[data-focus-link]") : null;
    if (!link || link.origin !== window.location.origin || link.pathname !== window.location.pathname) { return; }
    var target = targetOf(link.hash);
    // The address stays as it is: a #fragment would follow the next form
    // post and its redirect.
    if (target && focusTarget(target)) { event.preventDefault(); }
  });

  // After a problem is fixed or its row deleted without a page load, the
  // summary's 「（N件）」 says what is left, and an empty summary goes.
  function recount() {
    var summary = document.getElementById("error-summary");
    if (!summary) { return; }
    var left = summary.querySelectorAll("li").length;
    if (!left) { summary.remove(); return; }
    var count = summary.querySelector("[data-summary-count]");
    if (count && count.textContent !== String(left)) { count.textContent = String(left); }
  }
  window.portalErrorSummary = { recount: recount };

  function onLoad() {
    var target = targetOf(window.location.hash);
    if (target && focusTarget(target)) { return; }
    var summary = document.querySelector(".error-summary[data-autofocus]");
    if (summary) { summary.focus(); }
  }
  // After "load": the browser's own jump to the #fragment comes first and
  // would otherwise take the focus away again.
  if (document.readyState === "complete") {
    onLoad();
  } else {
    window.addEventListener("load", function () { window.setTimeout(onLoad, 0); });
  }
})();
