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
  var saving = null;      // the autosave request in flight, if any
  var timer = null;
  var conflict = false;
  var submitting = false;

  // One polite live region for what a screen-reader user must hear while
  // typing (a field going over its limit), instead of a live counter that
  // would speak on every keystroke.
  var announcer = document.createElement("p");
  announcer.className = "visually-hidden";
  announcer.setAttribute("aria-live", "polite");
  announcer.setAttribute("data-announcer", "");  // editor-rows.js speaks through it too
  form.appendChild(announcer);
  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // Count as the server does: NFC, \r\n as one character, code points
  // (so 𠮷 is one character), leading and trailing blanks ignored.
  function normalise(text) {
    var value = text.replace(/\r\n?/g, "\n");
    if (value.normalize) { value = value.normalize("NFC"); }
    return value.trim();
  }
  function countChars(text) { return Array.from(normalise(text)).length; }

  function labelText(field) {
    var label = document.querySelector("label[for='" + field.id + "']");
    if (!label) { return ""; }
    var copy = label.cloneNode(true);
    copy.querySelectorAll(".required").forEach(function (el) { el.remove(); });
    return copy.textContent.trim();
  }

  function updateCounter(field, speak) {
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    var counter = document.getElementById(field.id + "-counter");
    if (!counter || !limit) { return; }
    var n = countChars(field.value);
    var over = n > limit;
    var wasOver = counter.classList.contains("over");
    counter.textContent = n + "／" + limit + "字" + (over ? "（" + (n - limit) + "字超過）" : "");
    counter.classList.toggle("over", over);
    var serverError = document.getElementById(field.id + "-error");
    if (over) {
      field.setAttribute("aria-invalid", "true");
    } else if (!serverError || wasOver) {
      field.removeAttribute("aria-invalid");
    }
    if (speak && over !== wasOver) {
      announce(over ? labelText(field) + "：" + limit + "字を超えています（" + n + "字）。"
                    : labelText(field) + "：" + limit + "字以内になりました。");
    }
  }

  function setStatus(text, isError) {
    if (statusEl.textContent !== text) { statusEl.textContent = text; }
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

  function showConflict(message) {
    conflict = true;
    window.clearTimeout(timer);
    setStatus(message || "別の画面で更新されています。再読み込みしてください。", true);
    if (!document.getElementById("reload-after-conflict")) {
      var reload = document.createElement("button");
      reload.type = "button";
      reload.id = "reload-after-conflict";
      reload.className = "button";
      reload.textContent = "最新の内容を読み込む";
      reload.addEventListener("click", function () { window.location.reload(); });
      statusEl.parentNode.appendChild(reload);
    }
  }

  // The form's content as one string, to tell a real change from an event
  // without one (a "change" fired as the page closes, a box left as it was).
  function contentKey() {
    var parts = [];
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrf_token" && key !== "version" && key !== "action") { parts.push(key + "=" + value); }
    });
    return parts.join("&");
  }
  var lastSent = null;  // what the server has or is being sent; set once the page is ready
  var leaveKey = storageKey + "-sent-on-leave";
  var recheckKey = storageKey + "-recheck";

  // keepalive lets the request finish when the tab is being closed.
  function save(keepalive) {
    if (!dirty || saving || conflict || submitting) { return saving; }
    var body = new FormData(form);
    body.delete("action");
    keepLocalCopy();
    dirty = false;
    lastSent = contentKey();
    if (keepalive) {
      // The next page of this tab may be drawn before this save lands.
      try { window.sessionStorage.setItem(leaveKey, versionEl.value); } catch (e) { /* ignore */ }
    }
    setStatus("保存しています…");
    saving = fetch(form.getAttribute("data-autosave-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Accept": "application/json", "X-CSRFToken": form.elements["csrf_token"].value }
    }).then(function (response) {
      return response.json().then(function (json) { return { status: response.status, json: json }; },
                                  function () { return { status: response.status, json: {} }; });
    }).then(function (result) {
      saving = null;
      var ok = result.status === 200 && result.json.ok;
      // The page is closing and the answer was cut off: the request itself
      // still reached the server, so it must not be sent again.
      if (keepalive && !ok && result.status !== 409) { return; }
      if (ok) {
        versionEl.value = result.json.version;
        if (!dirty) {
          try { window.localStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
        }
        var problems = Object.keys(result.json.errors || {}).length;
        setStatus("自動保存しました（" + result.json.saved_at + "）" + (problems ? "　確認が必要な項目が" + problems + "件あります" : ""), problems > 0);
        syncErrors(result.json.errors || {});
        syncSteps(result.json.steps || {});
      } else if (result.status === 409) {
        showConflict(result.json.message);
      } else if (result.status === 401) {
        dirty = true;
        lastSent = null;
        setStatus("ログインの有効期限が切れたため保存できませんでした。入力内容はこの端末に一時保存しています。" +
                  "ログインし直してからこのページを開き、「復元する」を押してください。", true);
      } else {
        dirty = true;
        lastSent = null;
        setStatus((result.json && result.json.message) || "保存できませんでした。入力内容はこの端末に一時保存しています。", true);
      }
    }).catch(function () {
      saving = null;
      // A save sent as the page closes loses its answer here, although the
      // request itself carries on; sending it again would only conflict.
      if (keepalive) { return; }
      dirty = true;
      lastSent = null;
      setStatus("通信できないため保存できませんでした。入力内容はこの端末に一時保存し、つながり次第保存します。", true);
    }).then(function () {
      // Typing went on while a successful request was out: save that too.
      // (After a failure the message stays up; the retry comes every 15
      // seconds or as soon as the connection is back.)
      if (dirty && lastSent !== null && !conflict && !submitting) { scheduleSave(); }
    });
    return saving;
  }

  // The server's verdict after each autosave: messages for fields that are
  // now fine go away, new ones (an over-long text, an amount that is not a
  // number, a date) appear under their field, tied to it for screen readers.
  function syncErrors(errors) {
    var fields = [];
    form.querySelectorAll("[data-limit], input[id], select[id], textarea[id]").forEach(function (field) {
      if (field.hasAttribute("data-limit") || errors[field.id] || document.getElementById(field.id + "-error")) {
        fields.push(field);
      }
    });
    fields.forEach(function (field) {
      var key = field.id;
      var message = errors[key];
      var errorEl = document.getElementById(key + "-error");
      var wrapper = field.closest(".field, td");
      var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && id !== key + "-error";
      });
      if (message) {
        if (!errorEl) {
          errorEl = document.createElement("p");
          errorEl.className = "error";
          errorEl.id = key + "-error";
          var counter = document.getElementById(key + "-counter");
          (counter || field).insertAdjacentElement("afterend", errorEl);
        }
        if (errorEl.textContent !== message) { errorEl.textContent = message; }
        described.push(key + "-error");
        field.setAttribute("aria-invalid", "true");
        if (wrapper) { wrapper.classList.add("has-error"); }
      } else {
        if (errorEl) { errorEl.remove(); }
        if (wrapper) { wrapper.classList.remove("has-error"); }
        if (!field.hasAttribute("data-limit") || !document.getElementById(key + "-counter").classList.contains("over")) {
          field.removeAttribute("aria-invalid");
        }
        var item = document.querySelector("#error-summary a[href='#" + key + "']");
        if (item) { item.closest("li").remove(); }
      }
      if (described.length) { field.setAttribute("aria-describedby", described.join(" ")); }
      else { field.removeAttribute("aria-describedby"); }
    });
    if (window.portalErrorSummary) { window.portalErrorSummary.recount(); }
    else {
      var summary = document.getElementById("error-summary");
      if (summary && !summary.querySelector("li")) { summary.remove(); }
    }
  }

  // The steps' list says what each step still needs: after a save, the
  // counts as the server now sees them (a step with none says 入力済み).
  function syncSteps(counts) {
    form.querySelectorAll(".steps li[data-step]").forEach(function (item) {
      var count = counts[item.getAttribute("data-step")];
      var state = item.querySelector(".step-state");
      if (typeof count !== "number" || !state) { return; }
      var text = count ? "要確認 " + count + "件" : "入力済み";
      if (state.textContent !== text) { state.textContent = text; }
      item.classList.toggle("has-problems", count > 0);
    });
  }

  // Rows (added, deleted) and the budget's totals live in editor-rows.js.

  function scheduleSave() {
    if (conflict) { return; }
    if (!dirty && lastSent !== null && contentKey() === lastSent) { return; }  // nothing new
    dirty = true;
    setStatus("未保存の変更があります");
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { save(false); }, 2000);
  }

  form.querySelectorAll("[data-limit]").forEach(function (field) {
    updateCounter(field, false);
    field.addEventListener("input", function () { updateCounter(field, true); });
  });
  form.addEventListener("input", scheduleSave);
  form.addEventListener("change", scheduleSave);
  form.addEventListener("submit", function (event) {
    window.clearTimeout(timer);
    if (saving) {
      // The form carries the version; wait for the autosave in flight to
      // bring the new one, or the post would look like a conflict.
      event.preventDefault();
      var submitter = event.submitter;
      saving.then(function () {
        if (conflict) { return; }
        dirty = false;
        submitting = true;
        if (form.requestSubmit) { form.requestSubmit(submitter || undefined); } else { form.submit(); }
      });
      return;
    }
    dirty = false;
    submitting = true;
  });
  // Back to this page from the browser's cache: its version may be older
  // than what was saved as it was left, so load it afresh.
  window.addEventListener("pageshow", function (event) {
    submitting = false;
    if (event.persisted) { window.location.reload(); }
  });
  window.setInterval(function () { save(false); }, 15000);
  window.addEventListener("online", function () { save(false); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save(true); }
  });
  // beforeunload comes before the browser asks for the next page, so a
  // reload usually gets the text just typed; pagehide is the fallback
  // (phones do not always send beforeunload).
  window.addEventListener("beforeunload", function () { save(true); });
  window.addEventListener("pagehide", function () { save(true); });

  lastSent = contentKey();

  // What the form holds, as a bag of values: the server drops empty rows,
  // renumbers rows and normalises amounts, so names and formatting differ
  // between what was typed and what comes back; the values do not.
  function canonicalValues(data) {
    var values = [];
    Object.keys(data).forEach(function (name) {
      if (name === "version" || name === "csrf_token" || name === "action") { return; }
      [].concat(data[name]).forEach(function (value) {
        var text = String(value);
        if (text.normalize) { text = text.normalize("NFKC"); }
        text = text.replace(/[\s,，円¥]/g, "");
        if (text) { values.push(text); }
      });
    });
    return values.sort().join("\u0000");
  }
  function formData() {
    var data = {};
    new FormData(form).forEach(function (value, key) { data[key] = data[key] ? [].concat(data[key], value) : value; });
    return data;
  }

  // A copy kept in this browser: written before every save and removed once
  // the server has it. Left behind when the page closed during a save, or
  // when the server could not be reached.
  try {
    var sentOnLeave = window.sessionStorage.getItem(leaveKey);
    var rechecked = window.sessionStorage.getItem(recheckKey);
    window.sessionStorage.removeItem(leaveKey);
    window.sessionStorage.removeItem(recheckKey);
    if (sentOnLeave !== null && sentOnLeave === versionEl.value && !rechecked) {
      // This tab saved as its last page closed, and this page was drawn
      // from before that save landed: look again in a moment, once, rather
      // than let the writer edit (and later overwrite with) an old copy.
      window.sessionStorage.setItem(recheckKey, "1");
      conflict = true;  // no autosave from this page
      form.setAttribute("inert", "");  // nor typing that the reload would lose
      setStatus("直前の保存を確認しています…");
      window.setTimeout(function () { window.location.reload(); }, 700);
      return;
    }
    var kept = JSON.parse(window.localStorage.getItem(storageKey) || "null");
    if (kept && kept.data && canonicalValues(kept.data) === canonicalValues(formData())) {
      // The server has all of it (the save sent as the last page closed arrived).
      window.localStorage.removeItem(storageKey);
      kept = null;
    }
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
        form.querySelectorAll("input[type=checkbox]").forEach(function (box) {
          box.checked = [].concat(kept.data[box.name] || []).indexOf(box.value) >= 0;
        });
        Object.keys(kept.data).forEach(function (name) {
          if (name === "version") { return; }
          var value = kept.data[name];
          var selector = "[name='" + name.replace(/['\\]/g, "") + "']";
          var row = /^(role|income|expense)-(\d+)-/.exec(name);
          if (row && !form.querySelector(selector)) {
            // A row added before the copy was kept: add it again.
            var body = document.getElementById(row[1] + "-rows");
            var rows = window.portalRows;  // editor-rows.js
            while (body && rows && body.querySelectorAll("tr").length <= parseInt(row[2], 10) && rows.add(body)) { /* grow */ }
          }
          form.querySelectorAll(selector).forEach(function (el) {
            if (el.type !== "checkbox") { el.value = [].concat(value)[0]; }
          });
        });
        form.querySelectorAll("[data-limit]").forEach(function (field) { updateCounter(field, false); });
        notice.remove();
        scheduleSave();
      });
      discard.addEventListener("click", function () { window.localStorage.removeItem(storageKey); notice.remove(); });
      var buttons = document.createElement("div");
      buttons.className = "actions";
      buttons.appendChild(restore);
      buttons.appendChild(discard);
      notice.appendChild(p);
      notice.appendChild(buttons);
      form.parentNode.insertBefore(notice, form);
    }
  } catch (e) { /* ignore a broken local copy */ }
})();
