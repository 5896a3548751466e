/* The verifier on the page: a call's published files fetched from this
   site (the button), or files the visitor saved earlier (file input or
   drop). Needs verify-core.js and verify-results.js. */
(function () {
  'use strict';
  var C = window.KyodoVerifyCore, V = window.KyodoVerify;
  var dec = new TextDecoder('utf-8', { fatal: true });

  // The same strictness as scripts/verify_log.py: a number that is not an
  // integer, or a key given twice, makes a file unreadable (JSON.parse would
  // quietly read 4.0 as 4 and keep the last of two keys).
  function strictJson(text) {
    var stack = [], i = 0, n = text.length;
    while (i < n) {
      var ch = text[i];
      if (ch === '"') {
        var j = i + 1;
        while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        var k = j + 1;
        while (k < n && /\s/.test(text[k])) k++;
        var top = stack[stack.length - 1];
        if (top && top.keys && text[k] === ':') {
          var key = JSON.parse(text.slice(i, j + 1));
          if (top.keys.has(key)) throw new Error('同じ項目「' + key + '」が二度あります');
          top.keys.add(key);
        }
        i = j + 1;
        continue;
      }
      if (ch === '{') stack.push({ keys: new Set() });
      else if (ch === '[') stack.push({ keys: null });
      else if (ch === '}' || ch === ']') stack.pop();
      else if (ch === '-' || (ch >= '0' && ch <= '9')) {
        var m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
        if (m && (m[1] || m[2])) throw new Error('整数以外の数値 ' + m[0] + ' があります');
        i += m ? m[0].length : 1;
        continue;
      }
      i++;
    }
  }

  function spaced(hex) { return (hex || '').replace(/(.{4})(?=.)/g, '$1 '); }

  // One file's role from its content: the log, a results JSON, the 募集要項, a key, or a CSV/PDF to hash.
  function classify(name, bytes, files) {
    var head = new Uint8Array(bytes.slice(0, 30));
    var start = String.fromCharCode.apply(null, Array.from(head));
    if (start.indexOf('%PDF') === 0 || start.indexOf('\u00ef\u00bb\u00bf') === 0) { files.blobs.push({ name: name, bytes: bytes }); return; }
    var text;
    try { text = dec.decode(bytes); } catch (e) { files.unknown.push(name); return; }
    if (text.indexOf('-----BEGIN PUBLIC KEY-----') === 0) { files.trustedPem = text; files.keyName = name; return; }
    var doc;
    try { doc = JSON.parse(text); strictJson(text); } catch (e) { files.unknown.push(name + '（' + e.message + '）'); return; }
    if (doc && doc.format === 'kyodo-portal/process-log/v1') {
      if (files.log) files.unknown.push(name + '（記録のJSONは一度に一つだけ確かめられます）');
      else { files.log = doc; files.logName = name; }
    } else if (doc && doc.format === 'kyodo-portal/results/v1') files.results.push({ name: name, doc: doc });
    else if (doc && typeof doc === 'object' && Object.keys(doc).sort().join(',') === 'guidelines,title') files.guidelines.push({ name: name, doc: doc });
    else files.unknown.push(name);
  }
  function emptyFiles() { return { log: null, results: [], guidelines: [], blobs: [], served: [], unknown: [], trustedPem: null }; }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function show(out, report, files, source) {
    out.textContent = '';
    var failed = report.problems.length > 0 || files.unknown.length > 0;
    var headline = el('p', '', 'verify-headline ' + (failed ? 'verify-failed' : 'verify-ok'));
    if (failed && report.problems.length) {
      var first = report.problems[0];
      headline.textContent = '検証失敗：' + (first.entry ? '記録' + first.entry.seq + '番「' + C.describe(first.entry) + '」で問題が見つかりました。' : '') + first.text;
    } else if (failed) {
      headline.textContent = '検証失敗：読めないか、確かめられないファイルがあります：' + files.unknown.join('、') + '。';
    } else {
      headline.textContent = '検証成功：記録のつながり、電子署名、封印された採点、審査結果の計算' + (files.blobs.length || (files.served || []).length ? 'と文書のハッシュ' : '') + 'はすべて正しいことを確かめました。';
    }
    out.appendChild(headline);
    var facts = el('dl', undefined, 'facts hashes');
    function fact(term, value) { facts.appendChild(el('dt', term)); facts.appendChild(el('dd', value)); }
    fact('確かめた方法', source);
    fact('記録の件数', report.facts.entries + '件');
    fact('公開された採点', report.facts.revealed + '件');
    if (report.facts.fingerprint) fact('公開鍵の指紋（SHA-256）', spaced(report.facts.fingerprint));
    fact('照らし合わせた市の公開鍵', files.keyName || 'このサイトの公開鍵（/transparency/public-key.pem）');
    if (report.facts.files.length) fact('確かめた文書', report.facts.files.join('、'));
    out.appendChild(facts);
    if (report.problems.length) {
      out.appendChild(el('h3', '見つかった問題（' + report.problems.length + '件）'));
      var list = el('ol', undefined, 'verify-problems');
      report.problems.forEach(function (p) {
        list.appendChild(el('li', (p.entry ? '記録' + p.entry.seq + '番「' + C.describe(p.entry) + '」：' : '') + p.text));
      });
      out.appendChild(list);
    }
    out.setAttribute('data-outcome', failed ? 'failed' : 'verified');
    out.focus();
  }

  async function run(section, files, source) {
    var out = section.querySelector('[data-verify-result]');
    out.removeAttribute('data-outcome');
    out.textContent = '確かめています…';
    try {
      if (!files.trustedPem) {
        var key = await fetch(section.getAttribute('data-key-url'), { credentials: 'omit' });
        if (key.ok) files.trustedPem = await key.text();
      }
      show(out, await V.verifyBundle(files), files, source);
    } catch (err) {
      out.textContent = '検証できませんでした（' + err.message + '）。';
      out.setAttribute('data-outcome', 'failed');
    }
  }

  async function fetchCall(section) {
    var slug = encodeURIComponent(section.getAttribute('data-call'));
    var versions = (section.getAttribute('data-versions') || '').split(',').filter(Boolean);
    var urls = ['/calls/' + slug + '/log.json', '/calls/' + slug + '/guidelines.json'];
    versions.forEach(function (v) {
      ['/results/v' + v + '.json', '/results/v' + v + '.csv', '/results/v' + v + '.pdf', '/log/v' + v + '.pdf'].forEach(function (tail) {
        urls.push('/calls/' + slug + tail);
      });
    });
    var files = emptyFiles();
    for (var i = 0; i < urls.length; i++) {
      var response = await fetch(urls[i], { credentials: 'omit', cache: 'no-store' });
      if (!response.ok) throw new Error(urls[i] + ' を読み込めません');
      classify(urls[i], await response.arrayBuffer(), files);
    }
    // Every agreement and project document the log vouches for, from where this site serves it.
    files.served = [];
    var docs = files.log ? C.projectDocuments(files.log) : [];
    for (var j = 0; j < docs.length; j++) {
      var got = await fetch(docs[j].path, { credentials: 'omit', cache: 'no-store' });
      files.served.push({ path: docs[j].path, digest: docs[j].digest, label: docs[j].label, entry: docs[j].entry,
                          bytes: got.ok ? await got.arrayBuffer() : null });
    }
    return files;
  }

  async function readFiles(list) {
    var files = emptyFiles();
    for (var i = 0; i < list.length; i++) classify(list[i].name, await list[i].arrayBuffer(), files);
    return files;
  }

  document.querySelectorAll('[data-verifier]').forEach(function (section) {
    var button = section.querySelector('[data-verify-call]');
    if (button) {
      button.addEventListener('click', async function () {
        button.disabled = true;
        try { await run(section, await fetchCall(section), 'このサイトの公表文書'); }
        catch (err) {
          var out = section.querySelector('[data-verify-result]');
          out.textContent = '公表文書を読み込めませんでした（' + err.message + '）。';
          out.setAttribute('data-outcome', 'failed');
        } finally { button.disabled = false; }
      });
    }
    var input = section.querySelector('[data-verify-files]');
    if (input) {
      input.addEventListener('change', async function () {
        if (input.files.length) await run(section, await readFiles(input.files), '保存したファイル');
      });
    }
    var zone = section.querySelector('[data-drop-zone]');
    if (zone) {
      zone.addEventListener('dragover', function (e) { e.preventDefault(); zone.classList.add('dragging'); });
      zone.addEventListener('dragleave', function () { zone.classList.remove('dragging'); });
      zone.addEventListener('drop', async function (e) {
        e.preventDefault();
        zone.classList.remove('dragging');
        if (e.dataTransfer && e.dataTransfer.files.length) await run(section, await readFiles(e.dataTransfer.files), '保存したファイル');
      });
    }
  });
})();
