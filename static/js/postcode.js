// 団体概要: 「住所を検索」 fills 所在地 from the 郵便番号, from Japan Post's
// data on our own server. Progressive enhancement: without JavaScript the
// button is not there and the address is typed in full.
// What the person typed is never overwritten unasked: an empty 所在地 is
// filled; otherwise the address found is offered with a button.
(function () {
  "use strict";
  var form = document.querySelector("form[data-postcode-url]");
  var postcode = document.getElementById("postal_code");
  var address = document.getElementById("address");
  if (!form || !postcode || !address || !window.fetch) { return; }
  var urlTemplate = form.getAttribute("data-postcode-url");
  var MALFORMED = "郵便番号は7桁の数字で入力してください（例: 123-4567）。";

  var lookup = document.createElement("div");
  lookup.className = "postcode-lookup";
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button";
  button.textContent = "住所を検索";
  var status = document.createElement("p");
  status.className = "postcode-status";
  status.id = "postal_code-lookup-status";
  status.setAttribute("aria-live", "polite");
  lookup.appendChild(button);
  lookup.appendChild(status);
  postcode.insertAdjacentElement("afterend", lookup);

  var suggestion = null;
  function say(text) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }
  function dropSuggestion() {
    if (suggestion) { suggestion.remove(); suggestion = null; }
  }
  function putCaretAtEnd() {
    address.focus();
    try { address.setSelectionRange(address.value.length, address.value.length); } catch (e) { /* ignore */ }
  }

  // 全角 digits, 〒, spaces and any kind of dash are fine: 〒１００－０００１.
  function digitsOf(text) {
    var value = String(text || "");
    if (value.normalize) { value = value.normalize("NFKC"); }
    value = value.replace(/[〒\s\-‐‑–—―−ー]/g, "");
    return /^[0-9]{7}$/.test(value) ? value : null;
  }

  function offer(found) {
    suggestion = document.createElement("div");
    suggestion.className = "postcode-suggestion";
    var text = document.createElement("p");
    text.textContent = "郵便番号から見つかった住所：" + found;
    var use = document.createElement("button");
    use.type = "button";
    use.className = "button";
    use.textContent = "所在地をこの住所に置き換える";
    use.addEventListener("click", function () {
      var before = address.value;
      address.value = found;
      text.textContent = "所在地を「" + found + "」に置き換えました。";
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "button";
      undo.textContent = "元に戻す";
      undo.addEventListener("click", function () {
        address.value = before;
        dropSuggestion();
        say("所在地を元に戻しました。");
        putCaretAtEnd();
      });
      use.replaceWith(undo);
      say("所在地を「" + found + "」に置き換えました。続けて番地などを入力してください。");
      putCaretAtEnd();
    });
    suggestion.appendChild(text);
    suggestion.appendChild(use);
    address.insertAdjacentElement("afterend", suggestion);
  }

  // One postcode, several towns (452-0961: 清須市の春日夢の森, 春日中沼…):
  // the person picks theirs, and the address is then found as for one town.
  function chooseTown(json) {
    suggestion = document.createElement("fieldset");
    suggestion.className = "postcode-suggestion postcode-towns";
    var legend = document.createElement("legend");
    legend.textContent = "この郵便番号（" + json.postal_code + "）には町域が" + json.towns.length +
      "つあります。所在地の町域を選んでください。";
    suggestion.appendChild(legend);
    var list = document.createElement("ul");
    list.className = "choice-list";
    json.towns.forEach(function (town) {
      var item = document.createElement("li");
      var pick = document.createElement("button");
      pick.type = "button";
      pick.className = "button";
      pick.textContent = json.prefecture + json.city + town;
      pick.addEventListener("click", function () {
        dropSuggestion();
        show({ address: json.prefecture + json.city + town, town: town, towns: [] });
      });
      item.appendChild(pick);
      list.appendChild(item);
    });
    suggestion.appendChild(list);
    lookup.insertAdjacentElement("afterend", suggestion);
    say("この郵便番号には町域が" + json.towns.length + "つあります。下の一覧から選んでください。");
    var first = suggestion.querySelector("button");
    if (first) { first.focus(); }
  }

  function show(json) {
    if (json.towns && json.towns.length > 1) { chooseTown(json); return; }
    var found = json.address;
    var rest = json.town ? "番地" : "町名・番地";
    var current = address.value.trim();
    if (!current) {
      address.value = found;
      say("所在地に「" + found + "」を入れました。続けて" + rest + "などを入力してください。");
      putCaretAtEnd();
    } else if (current.indexOf(found) === 0) {
      say("所在地は郵便番号の住所（" + found + "）と合っています。");
    } else {
      offer(found);
      say("住所が見つかりました：" + found + "。所在地はすでに入力されているため、そのままにしています。");
    }
  }

  var pending = false;
  button.addEventListener("click", function () {
    if (pending) { return; }
    dropSuggestion();
    var digits = digitsOf(postcode.value);
    if (!digits) { say(MALFORMED); return; }
    pending = true;
    say("住所を検索しています…");
    fetch(urlTemplate.replace("0000000", digits), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (json) { return { status: response.status, json: json }; },
                                  function () { return { status: response.status, json: {} }; });
    }).then(function (result) {
      if (result.status === 200 && result.json.ok) {
        show(result.json);
      } else if (result.status === 401) {
        say("ログインの有効期限が切れたため検索できませんでした。もう一度ログインしてください。");
      } else {
        say(result.json.message || "住所を検索できませんでした。所在地を直接入力してください。");
      }
    }).catch(function () {
      say("通信できないため住所を検索できませんでした。所在地を直接入力してください。");
    }).then(function () { pending = false; });
  });
})();
