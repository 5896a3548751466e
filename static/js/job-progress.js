// Progress of a background job (publication) on the page that started it.
// The page itself shows the state from the database, so a reload is never
// needed; while the job runs this asks the server every few seconds and
// updates the text (read out by screen readers through role="status"),
// then reloads once the job has ended so the published version appears.
(function () {
  "use strict";
  var panel = document.querySelector("[data-job-url][data-job-active]");
  if (!panel || !window.fetch) return;
  var text = panel.querySelector("[data-job-text]");
  var bar = panel.querySelector("[data-job-bar]");
  var message = panel.querySelector("[data-job-message]");
  var delay = 2000;

  function show(job) {
    var counts = job.total ? "（" + job.done + "/" + job.total + "）" : "";
    text.textContent = job.status_label + "：" + job.stage + counts;
    if (bar) { bar.max = job.total || 1; bar.value = job.done; }
    if (message) { message.textContent = job.message; message.hidden = !job.message; }
  }

  function poll() {
    fetch(panel.getAttribute("data-job-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (job) {
        show(job);
        if (job.active) { setTimeout(poll, delay); } else { window.location.reload(); }
      })
      .catch(function () { delay = Math.min(delay * 2, 30000); setTimeout(poll, delay); });
  }
  setTimeout(poll, delay);
})();
