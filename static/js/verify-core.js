/* The citizen's verifier, in the browser: a third implementation of
   docs/log-format.md and docs/aggregation.md (after portal/domain/log and
   scripts/verify_log.py), with nothing but the browser's own Web Crypto
   (SHA-256, Ed25519). It reads the files, never sends them anywhere.
   verify-page.js connects it to the page; tests/e2e/test_verify_in_browser.py
   and tests/test_verify_cases_script.py give both verifiers the same files. */
(function () {
  'use strict';

  var HEAD_PURPOSE = 'kyodo-portal/log-head/v1';
  var GENESIS = new Array(65).join('0');
  var TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
  var HEX64 = /^[0-9a-f]{64}$/;
  var enc = new TextEncoder();

  // -- canonical JSON (docs/log-format.md, section 2) --------------------------
  function canon(v) {
    if (v === null || typeof v === 'boolean') return JSON.stringify(v);
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new Error('整数以外の数値があります');
      return String(v);
    }
    if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
    if (typeof v === 'object') {
      var keys = Object.keys(v).sort(byCodePoint);
      return '{' + keys.map(function (k) { return JSON.stringify(k) + ':' + canon(v[k]); }).join(',') + '}';
    }
    throw new Error('符号化できない値があります');
  }
  function byCodePoint(a, b) {
    var x = Array.from(a), y = Array.from(b);
    for (var i = 0; i < Math.min(x.length, y.length); i++) {
      var d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d) return d;
    }
    return x.length - y.length;
  }
  async function sha256(bytes) {
    var buf = await crypto.subtle.digest('SHA-256', typeof bytes === 'string' ? enc.encode(bytes) : bytes);
    return Array.from(new Uint8Array(buf)).map(function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }
  function b64(text) {
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function pemToDer(pem) {
    return b64(String(pem).replace(/-----(BEGIN|END) PUBLIC KEY-----|\s/g, ''));
  }
  async function verifySignature(pem, seq, hash, signature) {
    try {
      var key = await crypto.subtle.importKey('spki', pemToDer(pem), { name: 'Ed25519' }, false, ['verify']);
      var message = enc.encode(canon({ purpose: HEAD_PURPOSE, seq: seq, hash: hash }));
      return await crypto.subtle.verify({ name: 'Ed25519' }, key, b64(signature), message);
    } catch (e) {
      return false;
    }
  }

  // -- exact numbers: rationals of BigInt -----------------------------------------
  function gcd(a, b) { a = a < 0n ? -a : a; b = b < 0n ? -b : b; while (b) { var t = a % b; a = b; b = t; } return a; }
  function Q(n, d) {
    d = d === undefined ? 1n : d;
    if (d < 0n) { n = -n; d = -d; }
    var g = gcd(n, d) || 1n;
    return { n: n / g, d: d / g };
  }
  function dec(text) {
    if (typeof text === 'number' && Number.isSafeInteger(text)) return Q(BigInt(text));
    var m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(text));
    if (!m || typeof text === 'boolean' || text === null) throw new Error('数値ではありません: ' + text);
    var frac = m[3] || '';
    var n = BigInt(m[2] + frac) * (m[1] ? -1n : 1n);
    return Q(n, 10n ** BigInt(frac.length));
  }
  function add(a, b) { return Q(a.n * b.d + b.n * a.d, a.d * b.d); }
  function mul(a, b) { return Q(a.n * b.n, a.d * b.d); }
  function div(a, b) { return Q(a.n * b.d, a.d * b.n); }
  function cmp(a, b) { var x = a.n * b.d, y = b.n * a.d; return x < y ? -1 : x > y ? 1 : 0; }
  function places(text) { var s = String(text); return s.indexOf('.') < 0 ? 0 : s.length - s.indexOf('.') - 1; }
  // Rounded once to p places (ROUND_HALF_UP or ROUND_HALF_EVEN), as text.
  function fixed(q, p, rounding) {
    var neg = q.n < 0n, n = neg ? -q.n : q.n, scale = 10n ** BigInt(p);
    var scaled = n * scale, whole = scaled / q.d, rest2 = (scaled % q.d) * 2n;
    var up;
    if (rounding === 'ROUND_HALF_UP') up = rest2 >= q.d;
    else if (rounding === 'ROUND_HALF_EVEN') up = rest2 > q.d || (rest2 === q.d && whole % 2n === 1n);
    else throw new Error('未対応の丸め方です: ' + rounding);
    var digits = String(whole + (up ? 1n : 0n)).padStart(p + 1, '0');
    var sign = neg && BigInt(digits) !== 0n ? '-' : '';
    return sign + (p ? digits.slice(0, -p) + '.' + digits.slice(-p) : digits);
  }
  function codeOrder(a, b) {
    var x = a.split(/([0-9]+)/), y = b.split(/([0-9]+)/);
    for (var i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] === y[i]) continue;
      if (i % 2) { var d = BigInt(x[i]) - BigInt(y[i]); if (d) return d < 0n ? -1 : 1; continue; }
      return x[i] < y[i] ? -1 : 1;
    }
    if (x.length !== y.length) return x.length - y.length;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function same(a, b) { return canon(a === undefined ? null : a) === canon(b === undefined ? null : b); }

  // -- words ------------------------------------------------------------------------
  var STAGES = { document: '一次審査', presentation: '二次審査', document_revised: '一次審査（見直し）' };
  var DOCUMENT_KINDS = { change_decision: '変更申請の決定', interim_report: '中間報告', final_report: '実績報告',
                        settlement: '精算', evaluation: '事業評価' };
  function describe(e) {
    var p = (e && e.payload) || {};
    var words = {
      call_published: '募集「' + p.title + '」を開始しました',
      criteria_changed: '審査基準・ルールを変更しました',
      proposal_received: p.proposal_code + 'を受け付けました',
      intake_decided: p.proposal_code + 'の受付・形式審査の結果を記録しました',
      released_to_reviewers: '提案を審査委員に提供しました',
      reviewer_assigned: p.reviewer + 'を割り当てました',
      reviewer_recused: p.reviewer + 'が' + p.proposal_code + 'の審査から外れました',
      score_sealed: p.reviewer + 'が' + p.proposal_code + 'の採点（' + (STAGES[p.stage || 'document'] || p.stage) + '）を封印しました',
      scoring_closed: '採点を締め切りました',
      scores_revealed: '封印した採点を公開しました',
      score_reopened: p.reviewer + 'の' + p.proposal_code + 'の採点を再開しました',
      decision_recorded: '決定を記録しました',
      results_published: '審査結果を公表しました',
      correction: '記録' + p.corrects_seq + '番を訂正しました',
      agreement_concluded: p.proposal_code + 'の協定を締結しました',
      assignment_changed: p.proposal_code + 'の審査を' + p.from_reviewer + (p.to_reviewer ? 'から' + p.to_reviewer + 'に割り当てなおしました' : 'から外しました'),
      reviewer_withdrew: p.reviewer + 'が審査委員を辞退しました',
      project_document_published: p.proposal_code + 'の' + (DOCUMENT_KINDS[p.document_kind] || '文書') + 'を公開しました',
      minutes_published: '第' + p.meeting + '回審査会の議事録（公開部分）を公開しました'
    };
    return words[e.kind] || ('種類「' + e.kind + '」の記録');
  }

  // -- the log ------------------------------------------------------------------------
  async function checkLog(doc, trustedPem, report) {
    var entries = doc.entries, prev = null;
    report.facts.entries = entries.length;
    for (var i = 0; i < entries.length; i++) {
      var e = entries[i];
      if (!e || typeof e !== 'object' || !Number.isSafeInteger(e.seq) || typeof e.payload !== 'object' || e.payload === null ||
          ['kind', 'at', 'prev', 'hash'].some(function (k) { return typeof e[k] !== 'string'; })) {
        report.fail('chain', null, (i + 1) + '件目の記録の形式が正しくありません。');
        return false;
      }
      var expected = prev ? prev.seq + 1 : 1;
      if (e.seq !== expected) report.fail('chain', e, '記録の番号が連続していません（' + expected + '番のはずです）。記録が削除されたか、順序が入れ替えられています。');
      if (e.prev !== (prev ? prev.hash : GENESIS)) report.fail('chain', e, '一つ前の記録とハッシュでつながっていません。');
      var computed;
      try {
        computed = await sha256(canon({ prev: e.prev, seq: e.seq, kind: e.kind, at: e.at, payload: e.payload }));
      } catch (err) { computed = null; report.fail('chain', e, '記録を符号化できません（' + err.message + '）。'); }
      if (computed !== null && computed !== e.hash) report.fail('chain', e, '記録の内容がハッシュと一致しません。記録が書き換えられています。');
      if (!TIME.test(e.at)) report.fail('chain', e, '時刻の書き方が正しくありません。');
      else if (prev && TIME.test(prev.at) && e.at < prev.at) report.fail('chain', e, '時刻が一つ前の記録より前になっています。');
      if (!prev && e.kind !== 'call_published') report.fail('chain', e, '最初の記録が「募集の開始」ではありません。');
      prev = e;
    }
    if (!doc.call || doc.call.ref !== entries[0].payload.call_ref) report.fail('chain', entries[0], '文書の募集と最初の記録の募集が一致しません。');
    var head = doc.head || {};
    if (head.seq !== prev.seq || head.hash !== prev.hash) report.fail('signature', null, '署名された先頭が最後の記録と一致しません。');
    try {
      report.facts.fingerprint = await sha256(pemToDer(doc.public_key_pem));
    } catch (err) { report.fail('signature', null, '文書の公開鍵を読めません。'); }
    if (trustedPem) {
      var same = false;
      try { same = canon(Array.from(pemToDer(trustedPem))) === canon(Array.from(pemToDer(doc.public_key_pem))); } catch (err) { same = false; }
      report.facts.trustedKey = true;
      if (!same) report.fail('signature', null, '文書の公開鍵が市の公開鍵と違います。市以外の誰かが署名した文書です。');
    }
    if (!(await verifySignature(doc.public_key_pem, head.seq, head.hash, head.signature))) {
      report.fail('signature', null, '先頭の電子署名が正しくありません。');
    }
    return true;
  }

  function liveSeals(entries) {
    var live = {}, superseded = {}, problems = [];
    entries.forEach(function (e) {
      var p = e.payload, key = JSON.stringify([String(p.reviewer), String(p.proposal_code), String(p.stage || 'document')]);
      if (e.kind === 'score_sealed') {
        if (key in live) problems.push([e, '再開の記録がないのに、同じ採点がもう一度封印されています。']);
        live[key] = e.seq;
      } else if (e.kind === 'score_reopened') {
        if (live[key] !== p.supersedes_seq) problems.push([e, '再開の対象が有効な封印ではありません。']);
        else { superseded[p.supersedes_seq] = true; delete live[key]; }
      }
    });
    return { live: live, superseded: superseded, problems: problems };
  }

  async function checkReveals(doc, report) {
    var entries = doc.entries, bySeq = {};
    entries.forEach(function (e) { if (e.kind === 'score_sealed') bySeq[e.seq] = e; });
    var state = liveSeals(entries);
    state.problems.forEach(function (x) { report.fail('scores', x[0], x[1]); });
    var seen = {};
    for (var i = 0; i < doc.commitments_revealed.length; i++) {
      var r = doc.commitments_revealed[i];
      if (!r || !Number.isSafeInteger(r.seq) || typeof r.salt !== 'string') { report.fail('scores', null, '公開された採点の形式が正しくありません。'); continue; }
      if (seen[r.seq]) { report.fail('scores', bySeq[r.seq] || null, '同じ封印が二度公開されています。'); continue; }
      seen[r.seq] = true;
      var seal = bySeq[r.seq];
      if (!seal) { report.fail('scores', null, '公開された採点（' + r.seq + '番）に対応する封印の記録がありません。'); continue; }
      var ok = false;
      if (HEX64.test(r.salt)) {
        try { ok = (await sha256(canon({ salt: r.salt, scores: r.scores }))) === seal.payload.commitment; } catch (err) { ok = false; }
      }
      if (!ok) report.fail('scores', seal, '公開された点数が封印と一致しません。封印の後で点数が変えられています。');
      else report.facts.revealed += 1;
    }
    if (entries.some(function (e) { return e.kind === 'scores_revealed'; })) {
      Object.keys(bySeq).forEach(function (seq) {
        if (!seen[seq] && !state.superseded[seq]) report.fail('scores', bySeq[seq], '封印された採点が公開されていません。');
      });
    }
  }

  // The documents the log vouches for after adoption, with where the city
  // serves them (docs/log-format.md, revision note 5): the last concluded
  // agreement of each project, and every published project document.
  function projectDocuments(doc) {
    var ref = String((doc.call || {}).ref || ''), agreements = {}, order = [], found = [];
    (doc.entries || []).forEach(function (e) {
      var p = (e && e.payload) || {}, code = String(p.proposal_code === undefined ? '' : p.proposal_code), digest = p.document_sha256;
      if (typeof digest !== 'string' || !HEX64.test(digest)) return;
      if (e.kind === 'agreement_concluded') {
        if (!(code in agreements)) order.push(code);
        agreements[code] = { path: '/calls/' + encodeURIComponent(ref) + '/projects/' + encodeURIComponent(code) + '/agreement.pdf',
          digest: digest, label: '協定書（' + code + '）', entry: e };
      } else if (e.kind === 'project_document_published') {
        found.push({ path: '/calls/' + encodeURIComponent(ref) + '/projects/' + encodeURIComponent(code) + '/documents/' + digest + '.pdf',
          digest: digest, label: '事業の文書（' + code + '、' + p.document_kind + '）', entry: e });
      } else if (e.kind === 'minutes_published' && Number.isSafeInteger(p.meeting)) {
        found.push({ path: '/calls/' + encodeURIComponent(ref) + '/minutes/' + p.meeting + '.pdf',
          digest: digest, label: '議事録（第' + p.meeting + '回）', entry: e });
      }
    });
    return order.map(function (c) { return agreements[c]; }).concat(found);
  }

  window.KyodoVerifyCore = {
    projectDocuments: projectDocuments,
    canon: canon, sha256: sha256, dec: dec, add: add, mul: mul, div: div, cmp: cmp, Q: Q, fixed: fixed,
    places: places, codeOrder: codeOrder, same: same, describe: describe, verifySignature: verifySignature,
    checkLog: checkLog, checkReveals: checkReveals, liveSeals: liveSeals
  };
})();
