// The proposal editor's row tables: 「行を追加」 and the budget's 「削除」
// without a page load, the budget's totals while typing, and amounts shown
// as 240,000 when a box is left. Without JavaScript the server does all of
// this on 下書き保存 (the buttons post the form). Loaded before
// proposal-editor.js (which then takes the page as shown for what the
// server has) and saved by its autosave, which listens for input.
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  var totals = document.getElementById("budget-totals");
  if (!form) { return; }  // (the budget's totals are on the 予算 step only)
  var KINDS = { role: "役割分担", income: "収入", expense: "支出" };
  var MAX_YEN = 999999999;
  var requestCategory = totals ? totals.getAttribute("data-request-category") : "";

  // The editor's one polite live region (proposal-editor.js makes it);
  // a region of our own only if it is missing.
  function announce(text) {
    var announcer = form.querySelector("[data-announcer]");
    if (!announcer) {
      announcer = document.createElement("p");
      announcer.className = "visually-hidden";
      announcer.setAttribute("aria-live", "polite");
      announcer.setAttribute("data-announcer", "");
      form.appendChild(announcer);
    }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // As the server reads it (parse_yen): 全角 digits, commas, 円 and ¥ are
  // fine; anything else is not an amount (null) and counts as nothing.
  function parseYen(text) {
    var value = String(text || "");
    if (value.normalize) { value = value.normalize("NFKC"); }
    value = value.replace(/[,，円¥\s]/g, "");
    if (!/^[0-9]{1,12}$/.test(value)) { return null; }
    var n = parseInt(value, 10);
    return n <= MAX_YEN ? n : null;
  }
  function yen(n) { return n.toLocaleString("ja-JP") + "円"; }
  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  function rowsOf(kind) {
    var body = document.getElementById(kind + "-rows");
    return body ? Array.prototype.slice.call(body.querySelectorAll("tr")) : [];
  }
  function sum(kind, onlyRequest) {
    return rowsOf(kind).reduce(function (total, row) {
      var amount = row.querySelector("[data-amount]");
      var category = row.querySelector("select");
      if (onlyRequest && (!category || category.value !== requestCategory)) { return total; }
      return total + (amount ? parseYen(amount.value) || 0 : 0);
    }, 0);
  }
  function updateTotals() {
    if (!totals) { return; }
    var income = sum("income", false);
    var expense = sum("expense", false);
    setText("total-income", yen(income));
    setText("total-expense", yen(expense));
    setText("total-balance", yen(income - expense));
    setText("total-requested", yen(sum("income", true)));
  }

  // Rows are numbered 0, 1, 2… in names and ids and 1行目, 2行目… in labels,
  // as the server numbers them when it draws the page.
  function renumber(kind) {
    var pattern = new RegExp("^" + kind + "-\\d+-");
    rowsOf(kind).forEach(function (row, index) {
      var base = kind + "-" + index + "-";
      row.querySelectorAll("[id], [name], label[for]").forEach(function (el) {
        ["id", "name", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && pattern.test(value)) { el.setAttribute(attr, value.replace(pattern, base)); }
        });
      });
      row.querySelectorAll("[aria-describedby]").forEach(function (el) {
        el.setAttribute("aria-describedby", el.getAttribute("aria-describedby").split(" ").map(function (id) {
          return id.replace(pattern, base);
        }).join(" "));
      });
      row.querySelectorAll("label").forEach(function (label) {
        label.textContent = label.textContent.replace(/（\d+行目）/, "（" + (index + 1) + "行目）");
      });
      var button = row.querySelector("[data-delete-row]");
      if (button) {
        button.value = "delete-" + kind + "-" + index;
        button.setAttribute("aria-label", KINDS[kind] + " " + (index + 1) + "行目を削除");
      }
    });
  }

  // The list of problems at the top names rows by number too.
  function renumberSummary(kind, deleted) {
    var pattern = new RegExp("^#" + kind + "-(\\d+)-(.*)$");
    document.querySelectorAll("#error-summary a[href^='#" + kind + "-']").forEach(function (link) {
      var match = pattern.exec(link.getAttribute("href"));
      if (!match) { return; }
      var index = parseInt(match[1], 10);
      if (index === deleted) {
        link.closest("li").remove();
      } else if (index > deleted) {
        link.setAttribute("href", "#" + kind + "-" + (index - 1) + "-" + match[2]);
        link.textContent = link.textContent.replace(/（\d+行目）/, "（" + index + "行目）");
      }
    });
    recountSummary();
  }

  // The summary's heading says how many problems it lists (error-summary.js).
  function recountSummary() {
    if (window.portalErrorSummary) { window.portalErrorSummary.recount(); return; }
    var summary = document.getElementById("error-summary");
    if (summary && !summary.querySelector("li")) { summary.remove(); }
  }

  function clearRow(row) {
    row.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    row.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    row.querySelectorAll("input, select, textarea").forEach(function (field) {
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
      if (field.tagName === "SELECT") { field.selectedIndex = 0; } else { field.value = ""; }
    });
  }

  function deleteRow(button) {
    var row = button.closest("tr");
    var kind = /^delete-(income|expense)-\d+$/.exec(button.value);
    if (!row || !kind) { return false; }
    kind = kind[1];
    var rows = rowsOf(kind);
    var index = rows.indexOf(row);
    var next;
    if (rows.length === 1) {
      // The last row stays, emptied: new rows are copies of it (an empty row is no row to the server).
      clearRow(row);
      next = row;
    } else {
      next = rows[index + 1] || null;
      row.remove();
      renumber(kind);
    }
    renumberSummary(kind, index);
    var focusTo = next ? next.querySelector("input, select, textarea")
                       : form.querySelector("button[data-add-row='" + kind + "-rows']");
    if (focusTo) { focusTo.focus(); }
    announce("行を削除しました");
    updateTotals();
    // proposal-editor.js saves on input: the row is gone from the next autosave.
    form.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-delete-row]");
    if (button && form.contains(button) && deleteRow(button)) { event.preventDefault(); }
  });

  form.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-amount]")) { updateTotals(); }
  });
  form.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-amount], select")) { updateTotals(); }
  });
  // Leaving an amount box: 240000 or ２４０，０００ becomes 240,000. What
  // cannot be read stays exactly as typed, for its message to point at.
  // The page comes with amounts as stored (240000): shown the same way.
  function separate(field) {
    var n = parseYen(field.value);
    if (n !== null) {
      var shown = n.toLocaleString("ja-JP");
      if (field.value !== shown) { field.value = shown; }
    }
  }
  form.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("[data-amount]")) { separate(event.target); }
  });
  form.querySelectorAll("[data-amount]").forEach(separate);

  // 「行を追加」: a new blank row right here, instead of posting the form
  // and landing back at the top of a long page.
  function addRow(body) {
    var rows = body.querySelectorAll("tr");
    if (!rows.length || rows.length >= 40) { return null; }  // the server has the last word
    var row = rows[rows.length - 1].cloneNode(true);
    clearRow(row);
    body.appendChild(row);
    renumber(body.id.replace(/-rows$/, ""));
    return row;
  }
  window.portalRows = { add: addRow };  // proposal-editor.js restores kept rows with it
  form.querySelectorAll("button[data-add-row]").forEach(function (button) {
    var body = document.getElementById(button.getAttribute("data-add-row"));
    if (!body) { return; }
    button.addEventListener("click", function (event) {
      var row = addRow(body);
      if (!row) { return; }  // the button posts the form instead
      event.preventDefault();
      var first = row.querySelector("input, textarea, select");
      if (first) { first.focus(); }
      announce(body.querySelectorAll("tr").length + "行目を追加しました。");
    });
  });
  updateTotals();
})();
