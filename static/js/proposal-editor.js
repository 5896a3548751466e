// Live character counters and autosave for the proposal editor.
// Progressive enhancement: without JS the form still saves with its buttons.
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  if (!form) { return; }
  var statusEl = document.getElementById("save-status");
  var versionEl = document.getElementById("version");
  var storageKey = "portal-draft-" + form.getAttribute("data-draft-key");
  var dirty = false;
  var saving = false;
  var timer = null;
  var conflict = false;

  function normalise(text) { return text.replace(/\r\n?/g, "\n").trim(); }
  function countChars(text) { return Array.from(normalise(text)).length; }

  function updateCounter(field) {
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    var counter = document.getElementById(field.id + "-counter");
    if (!counter || !limit) { return; }
    var n = countChars(field.value);
    counter.textContent = n + "／" + limit + "字" + (n > limit ? "（" + (n - limit) + "字超過）" : "");
    counter.classList.toggle("over", n > limit);
  }

  function setStatus(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", !!isError);
  }

  function keepLocalCopy() {
    try {
      var data = {};
      new FormData(form).forEach(function (value, key) {
        if (key !== "csrf_token") { data[key] = data[key] ? [].concat(data[key], value) : value; }
      });
      window.localStorage.setItem(storageKey, JSON.stringify({ savedAt: Date.now(), data: data }));
    } catch (e) { /* storage may be full or disabled; the server copy still counts */ }
  }

  // keepalive lets the request finish when the tab is being closed.
  function save(keepalive) {
    if (!dirty || saving || conflict) { return; }
    var body = new FormData(form);
    body.delete("action");
    keepLocalCopy();
    saving = true;
    dirty = false;
    setStatus("保存しています…");
    fetch(form.getAttribute("data-autosave-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Accept": "application/json", "X-CSRFToken": form.elements["csrf_token"].value }
    }).then(function (response) {
      return response.json().then(function (json) { return { status: response.status, json: json }; });
    }).then(function (result) {
      saving = false;
      if (result.status === 200 && result.json.ok) {
        versionEl.value = result.json.version;
        try { window.localStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
        var problems = Object.keys(result.json.errors || {}).length;
        setStatus("自動保存しました（" + result.json.saved_at + "）" + (problems ? "　確認が必要な項目が" + problems + "件あります" : ""), problems > 0);
        updateTotals(result.json.totals);
      } else if (result.status === 409) {
        conflict = true;
        setStatus(result.json.message || "別の画面で更新されています。再読み込みしてください。", true);
      } else {
        dirty = true;
        setStatus((result.json && result.json.message) || "保存できませんでした。入力内容はこの端末に一時保存しています。", true);
      }
    }).catch(function () {
      saving = false;
      dirty = true;
      setStatus("通信できないため保存できませんでした。入力内容はこの端末に一時保存し、つながり次第保存します。", true);
    });
  }

  function yen(n) { return Number(n).toLocaleString("ja-JP") + "円"; }
  function updateTotals(totals) {
    if (!totals) { return; }
    document.getElementById("total-income").textContent = yen(totals.income);
    document.getElementById("total-expense").textContent = yen(totals.expense);
    document.getElementById("total-requested").textContent = yen(totals.requested);
  }

  function scheduleSave() {
    dirty = true;
    setStatus("未保存の変更があります");
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { save(false); }, 2000);
  }

  form.querySelectorAll("[data-limit]").forEach(function (field) {
    updateCounter(field);
    field.addEventListener("input", function () { updateCounter(field); });
  });
  form.addEventListener("input", scheduleSave);
  form.addEventListener("change", scheduleSave);
  form.addEventListener("submit", function () { dirty = false; window.clearTimeout(timer); });
  window.setInterval(function () { save(false); }, 15000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save(true); }
  });
  window.addEventListener("pagehide", function () { save(true); });

  // A copy kept in this browser when the server could not be reached.
  try {
    var kept = JSON.parse(window.localStorage.getItem(storageKey) || "null");
    if (kept && kept.data) {
      var notice = document.createElement("div");
      notice.className = "notice warning";
      notice.setAttribute("role", "alert");
      var p = document.createElement("p");
      p.textContent = "保存できなかった入力内容がこの端末に残っています。復元しますか？";
      var restore = document.createElement("button");
      restore.type = "button";
      restore.className = "button";
      restore.textContent = "復元する";
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button";
      discard.textContent = "破棄する";
      restore.addEventListener("click", function () {
        Object.keys(kept.data).forEach(function (name) {
          if (name === "version") { return; }
          var value = kept.data[name];
          var fields = form.querySelectorAll("[name='" + name.replace(/'/g, "") + "']");
          fields.forEach(function (el) {
            if (el.type === "checkbox") { el.checked = [].concat(value).indexOf(el.value) >= 0; }
            else { el.value = value; }
          });
        });
        form.querySelectorAll("[data-limit]").forEach(updateCounter);
        notice.remove();
        scheduleSave();
      });
      discard.addEventListener("click", function () { window.localStorage.removeItem(storageKey); notice.remove(); });
      notice.appendChild(p);
      notice.appendChild(restore);
      notice.appendChild(discard);
      form.parentNode.insertBefore(notice, form);
    }
  } catch (e) { /* ignore a broken local copy */ }
})();
