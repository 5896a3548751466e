// Disable a form's submit button after the first click; the server also
// refuses a second submission, this just keeps people from wondering.
// Also: forms that ask for confirmation before an irreversible step.
(function () {
  "use strict";
  // A form with data-confirm="…" asks first (deleting a draft cannot be undone).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    });
  });
  var forms = document.querySelectorAll("form[data-submit-once]");
  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      if (form.getAttribute("data-submitting")) { event.preventDefault(); return; }
      form.setAttribute("data-submitting", "1");
      form.setAttribute("aria-busy", "true");
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
        button.setAttribute("data-label", button.textContent);
        button.textContent = "送信しています…";
      });
    });
  });
  // Coming back with the browser's back button shows the page from its
  // cache: make the buttons usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    forms.forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[data-label]").forEach(function (button) {
        button.textContent = button.getAttribute("data-label");
        button.removeAttribute("data-label");
        button.removeAttribute("aria-disabled");
      });
    });
  });
})();
