/* The published results against the signed log, in the browser: each
   results JSON's hash, basis, signed rules, decisions and revealed scores,
   every figure recomputed (docs/aggregation.md), and the hash of every
   other file (CSV, PDFs, 募集要項). Mirrors check_results in
   scripts/verify_log.py. Needs verify-core.js. */
(function () {
  'use strict';
  var C = window.KyodoVerifyCore;
  var ADOPTS = { adopted: true, conditional: true };

  function signedRules(entries, beforeSeq) {
    var found = null;
    entries.forEach(function (e) {
      if (e.seq < beforeSeq && (e.kind === 'call_published' || e.kind === 'criteria_changed') && e.payload.criteria) found = e;
    });
    if (!found) return null;
    var rules = {};
    (found.payload.rules || []).forEach(function (r) { if (r && typeof r === 'object') rules[r.field] = r.value; });
    return { criteria: found.payload.criteria, rules: rules };
  }
  function sameNumber(a, b) {
    var emptyA = a === '' || a === null || a === undefined, emptyB = b === '' || b === null || b === undefined;
    if (emptyA || emptyB) return emptyA === emptyB;
    return C.cmp(C.dec(a), C.dec(b)) === 0;
  }

  function checkSignedRules(entries, results, beforeSeq, say) {
    var signed = signedRules(entries, beforeSeq);
    if (!signed) { say('公表より前に審査基準の記録がありません。'); return; }
    var hundred = C.Q(100n);
    var mine = results.criteria.map(function (c) { return [c.key, c.name, C.fixed(C.mul(C.dec(c.weight), hundred), 0, 'ROUND_HALF_UP'), c.min, c.max]; });
    var theirs = signed.criteria.map(function (c) { return [c.key, c.label, String(c.weight), c.min, c.max]; });
    if (!C.same(mine, theirs)) say('公表した審査基準または重みが、署名された記録と一致しません。');
    var r = results.rules, rules = signed.rules, veto = r.veto || null;
    var pairs = [
      ['集計方法', r.method, rules.aggregation_method],
      ['最高・最低を除く人数', String(r.trim_min_scorers), rules.trim_min_scorers],
      ['同点のときの基準', (r.tie_breaks || []).join(','), rules.tie_break_positions],
      ['予算の扱い', r.budget_policy, rules.budget_policy],
      ['小数の桁数', String(r.decimals), rules.score_decimals],
      ['丸め方', r.rounding, rules.rounding === undefined ? 'ROUND_HALF_UP' : rules.rounding]
    ];
    if (veto) {
      pairs.push(['拒否の基準', veto.criterion_key, rules.veto_criterion_position]);
      pairs.push(['拒否の点数', String(veto.at_or_below), rules.veto_at_or_below]);
    } else if ((rules.veto_criterion_position || '') !== '' && (rules.veto_at_or_below || '') !== '') {
      pairs.push(['拒否の基準', '', rules.veto_criterion_position]);
    }
    pairs.forEach(function (x) { if (x[1] !== x[2]) say('ルール「' + x[0] + '」が署名された記録と一致しません（公表 ' + x[1] + '、記録 ' + x[2] + '）。'); });
    if (!sameNumber(r.threshold_points, rules.threshold_points) || !sameNumber(r.threshold_share, rules.threshold_share)) {
      say('合格基準点が署名された記録と一致しません。');
    }
    var budget = rules.budget_total ? Number(rules.budget_total) : 0;
    if ((r.budget_total || 0) !== budget) say('予算総額が署名された記録と一致しません。');
  }

  function countedScores(entries, reveals, results) {
    var r = results.rules;
    var stages = r.counted_stages || (r.deciding_stage === 'presentation' ? ['presentation'] : ['document_revised', 'document']);
    var revealed = {};
    reveals.forEach(function (x) { if (x && typeof x === 'object') revealed[x.seq] = x.scores; });
    var live = C.liveSeals(entries).live, counted = {};
    Object.keys(live).forEach(function (key) {
      var k = JSON.parse(key), seq = live[key], rank = stages.indexOf(k[2]);
      if (rank < 0 || !(seq in revealed)) return;
      var pair = JSON.stringify([k[0], k[1]]);
      if (!counted[pair] || rank < counted[pair].rank) counted[pair] = { rank: rank, scores: revealed[seq], seq: seq };
    });
    return counted;
  }

  function figures(row, ties) { return [row.score].concat(ties.map(function (k) { return row.criterion_means[k]; })); }
  function compareFigures(a, b) {
    for (var i = 0; i < a.length; i++) { var d = C.cmp(C.dec(b[i]), C.dec(a[i])); if (d) return d; }
    return 0;
  }

  // Every figure from the published criteria, rules and scores (docs/aggregation.md).
  function recompute(results) {
    var rules = results.rules, crit = results.criteria, decimals = rules.decimals;
    var rounding = rules.rounding || 'ROUND_HALF_UP', ties = rules.tie_breaks || [];
    var weights = {}, totalPlaces = 0, maximum = C.Q(0n);
    crit.forEach(function (c) {
      weights[c.key] = C.dec(c.weight);
      totalPlaces = Math.max(totalPlaces, C.places(c.weight));
      maximum = C.add(maximum, C.mul(weights[c.key], C.dec(c.max)));
    });
    var threshold = null;
    if (rules.threshold_points !== null && rules.threshold_points !== undefined) threshold = C.dec(rules.threshold_points);
    else if (rules.threshold_share !== null && rules.threshold_share !== undefined) threshold = C.mul(C.dec(rules.threshold_share), maximum);
    var out = {};
    results.proposals.forEach(function (p) {
      var n = p.reviewers.length, totals = {};
      // Fewer valid sheets than the proposal requires (採点不成立): no rank, no recommendation.
      var under = n === 0 || (p.min_scorers !== null && p.min_scorers !== undefined && n < p.min_scorers);
      var row = { under: under, scorer_count: n, trimmed: false, score: null, share_of_max: null, criterion_means: {},
        passes_threshold: false, vetoed: false, totals: {}, extremes: null };
      p.reviewers.forEach(function (r) {
        var t = C.Q(0n);
        crit.forEach(function (c) { t = C.add(t, C.mul(weights[c.key], C.dec(r.scores[c.key]))); });
        totals[r.reviewer] = t;
        row.totals[r.reviewer] = C.fixed(t, totalPlaces, 'ROUND_HALF_UP');
      });
      if (n) {
        var kept = Object.keys(totals).map(function (k) { return totals[k]; }).sort(C.cmp);
        if (rules.method === 'trimmed_mean' && n >= rules.trim_min_scorers) {
          row.trimmed = true; row.extremes = [kept[0], kept[kept.length - 1]];
          kept = kept.slice(1, -1);
        }
        var sum = kept.reduce(C.add, C.Q(0n)), exact = C.div(sum, C.Q(BigInt(kept.length)));
        row.score = C.fixed(exact, decimals, rounding);
        row.share_of_max = C.fixed(C.div(exact, maximum), decimals + 2, rounding);
        crit.forEach(function (c) {
          var s = p.reviewers.reduce(function (acc, r) { return acc + BigInt(r.scores[c.key]); }, 0n);
          row.criterion_means[c.key] = C.fixed(C.Q(s, BigInt(n)), decimals, rounding);
        });
        row.passes_threshold = threshold === null || C.cmp(C.dec(row.score), threshold) >= 0;
        if (rules.veto) {
          var count = p.reviewers.filter(function (r) { return r.scores[rules.veto.criterion_key] <= rules.veto.at_or_below; }).length;
          row.vetoed = 2 * count > n;
        }
      }
      out[p.code] = row;
    });
    var ranked = Object.keys(out).filter(function (c) { return !out[c].under; });
    ranked.sort(function (a, b) { return compareFigures(figures(out[a], ties), figures(out[b], ties)) || C.codeOrder(a, b); });
    ranked.forEach(function (code, i) {
      var before = i ? ranked[i - 1] : null;
      out[code].rank = before !== null && C.same(figures(out[before], ties), figures(out[code], ties)) ? out[before].rank : i + 1;
    });
    Object.keys(out).forEach(function (code) {
      var row = out[code];
      if (row.rank === undefined) row.rank = null;
      row.tied_with = ranked.filter(function (c) { return c !== code && row.rank !== null && out[c].rank === row.rank; });
      row.tie_break_used = null;
    });
    ranked.forEach(function (code, i) {
      var levels = [];
      ranked.slice(Math.max(i - 1, 0), i).concat(ranked.slice(i + 1, i + 2)).forEach(function (other) {
        var a = figures(out[code], ties), b = figures(out[other], ties);
        if (a[0] !== b[0]) return;
        for (var level = 1; level < a.length; level++) { if (a[level] !== b[level]) { levels.push(level - 1); break; } }
      });
      if (levels.length) out[code].tie_break_used = ties[Math.max.apply(null, levels)];
    });
    var used = 0, stopped = false, budget = rules.budget_total, amounts = {};
    results.proposals.forEach(function (p) { amounts[p.code] = p.requested_amount; });
    ranked.concat(Object.keys(out).filter(function (c) { return ranked.indexOf(c) < 0; })).forEach(function (code) {
      var row = out[code], over = false;
      row.recommended = false;
      if (!row.under && row.passes_threshold && !row.vetoed) {
        if (budget === null || budget === undefined) row.recommended = true;
        else if (stopped || used + amounts[code] > budget) { over = true; stopped = stopped || rules.budget_policy === 'stop'; }
        else { row.recommended = true; used += amounts[code]; }
      }
      row.reasons = !row.scorer_count ? ['no_scorers'] : row.under ? ['under_minimum'] : [].concat(row.passes_threshold ? [] : ['below_threshold'],
        row.vetoed ? ['vetoed'] : [], over ? ['over_budget'] : []);
    });
    return { rows: out, maximum: maximum, threshold: threshold, used: used };
  }

  var FIGURES = { scorer_count: '採点した委員数', trimmed: '最高・最低の除外', score: '得点', share_of_max: '満点に対する割合',
    criterion_means: '基準ごとの平均点', passes_threshold: '合格基準の判定', vetoed: '拒否の判定', rank: '順位',
    tied_with: '同順位の提案', tie_break_used: '同点時の判定に使った基準', recommended: '推薦', reasons: '推薦しない理由' };

  function checkFigures(results, say) {
    var computed;
    try { computed = recompute(results); } catch (err) { say('公表した点数から再計算できません（' + err.message + '）。'); return; }
    results.proposals.forEach(function (p) {
      var row = computed.rows[p.code];
      Object.keys(FIGURES).forEach(function (name) {
        if (!C.same(p[name], row[name])) say(p.code + 'の「' + FIGURES[name] + '」が再計算と一致しません（公表 ' + C.canon(p[name] === undefined ? null : p[name]) + '、再計算 ' + C.canon(row[name]) + '）。');
      });
      p.reviewers.forEach(function (r) {
        if (r.total !== row.totals[r.reviewer]) say(p.code + 'の' + r.reviewer + 'の合計点が再計算と一致しません（公表 ' + r.total + '、再計算 ' + row.totals[r.reviewer] + '）。');
      });
      var dropped = p.reviewers.filter(function (r) { return r.dropped; }).map(function (r) { return C.dec(r.total); }).sort(C.cmp);
      if (!C.same(dropped.map(C.canon), (row.extremes || []).map(C.canon))) say(p.code + 'で除外した最高・最低の合計点が正しくありません。');
      var decision = p.decision || {}, departs = !!ADOPTS[decision.outcome] !== row.recommended;
      if (p.departs !== departs) say(p.code + 'の「推薦と異なる決定」の表示が正しくありません。');
      if (departs && !String(decision.reason || '').trim()) say(p.code + 'は推薦と異なる決定なのに、理由が公表されていません。');
    });
    var r = results.rules;
    var thresholdOk = (r.threshold_effective === null || r.threshold_effective === undefined) === (computed.threshold === null) &&
      (computed.threshold === null || C.cmp(C.dec(r.threshold_effective), computed.threshold) === 0);
    if (C.cmp(C.dec(r.max_possible), computed.maximum) !== 0 || !thresholdOk || results.budget_used !== computed.used) {
      say('満点、合格基準点または予算の使用額が再計算と一致しません。');
    }
  }

  async function checkResults(doc, results, say) {
    var entries = doc.entries, version = results.version;
    var published = entries.filter(function (e) { return e.kind === 'results_published'; });
    if (!Number.isSafeInteger(version) || version < 1 || version > published.length) { say('第' + version + '版の公表の記録がありません。'); return {}; }
    var entry = published[version - 1], payload = entry.payload;
    if (payload.version !== undefined && payload.version !== version) say('公表の記録の版が一致しません。', entry);
    if (payload.results_sha256 !== undefined && (await C.sha256(C.canon(results))) !== payload.results_sha256) {
      say('結果のJSONが記録されたハッシュと一致しません。公表の後で書き換えられています。', entry);
    }
    var basis = results.log_head || {}, at = entries.filter(function (e) { return e.seq === basis.seq; })[0];
    if (!at || at.hash !== basis.hash || basis.seq >= entry.seq) say('結果が根拠とした記録の先頭が、記録と一致しません。');
    else if (!(await C.verifySignature(doc.public_key_pem, basis.seq, basis.hash, basis.signature))) say('結果が根拠とした記録の先頭の署名が正しくありません。');
    checkSignedRules(entries, results, entry.seq, say);
    var decided = entries.filter(function (e) { return e.kind === 'decision_recorded' && e.seq < entry.seq; });
    if (!decided.length) say('公表より前に決定の記録がありません。');
    else {
      var last = decided[decided.length - 1], logged = {}, shown = {};
      (last.payload.outcomes || []).forEach(function (o) { logged[o.proposal_code] = [o.result, o.reason || '']; });
      results.proposals.forEach(function (p) { var d = p.decision || {}; shown[p.code] = [d.outcome, d.reason || '']; });
      Object.keys(Object.assign({}, logged, shown)).sort(C.codeOrder).forEach(function (code) {
        if (!C.same(logged[code], shown[code])) say(code + 'の決定が記録（' + last.seq + '番）と一致しません。', last);
      });
    }
    var counted = countedScores(entries, doc.commitments_revealed, results), shownScores = {};
    results.proposals.forEach(function (p) { p.reviewers.forEach(function (r) { shownScores[JSON.stringify([r.reviewer, p.code])] = r.scores; }); });
    Object.keys(Object.assign({}, counted, shownScores)).sort().forEach(function (pair) {
      var k = JSON.parse(pair);
      if (!counted[pair]) say(k[1] + 'の' + k[0] + 'の点数に対応する、公開された封印がありません。');
      else if (!C.same(counted[pair].scores, shownScores[pair])) {
        var seal = entries.filter(function (e) { return e.seq === counted[pair].seq; })[0];
        say(k[1] + 'の' + k[0] + 'の公表した点数が、封印された点数と一致しません。', seal);
      }
    });
    checkFigures(results, say);
    var vouched = {};
    vouched[payload.document_sha256] = '結果のPDF（第' + version + '版）';
    if (payload.csv_sha256) vouched[payload.csv_sha256] = '結果のCSV（第' + version + '版）';
    vouched[results.log_pdf_sha256] = '記録のPDF（第' + version + '版）';
    return vouched;
  }

  // files: {log, results: [{name, doc}], guidelines: [{name, doc}], blobs: [{name, bytes}], trustedPem}
  async function verifyBundle(files) {
    var report = {
      problems: [], checks: {}, facts: { entries: 0, revealed: 0, fingerprint: null, trustedKey: false, files: [] },
      fail: function (area, entry, text) { this.problems.push({ area: area, seq: entry ? entry.seq : null, entry: entry || null, text: text }); }
    };
    var doc = files.log;
    if (!doc || typeof doc !== 'object' || !Array.isArray(doc.entries) || !doc.entries.length || !doc.head ||
        !Array.isArray(doc.commitments_revealed)) {
      report.fail('document', null, '審査プロセスの記録（log.json）が見つからないか、形式が正しくありません。');
      return report;
    }
    var readable = await C.checkLog(doc, files.trustedPem, report);
    if (readable) {
      await C.checkReveals(doc, report);
      var vouched = {};
      for (var i = 0; i < files.results.length; i++) {
        var item = files.results[i];
        var say = (function (name) { return function (text, entry) { report.fail('files', entry || null, name + '：' + text); }; })(item.name);
        try {
          var mine = await checkResults(doc, item.doc, say);
          // Two versions can share a file (a correction of a comment leaves the CSV as it was).
          Object.keys(mine).forEach(function (digest) {
            vouched[digest] = vouched[digest] && vouched[digest] !== mine[digest] ? vouched[digest] + '・' + mine[digest] : mine[digest];
          });
        } catch (err) { say('結果のJSONの形式が正しくありません（' + err.message + '）。'); }
        report.facts.files.push(item.name);
      }
      var digests = doc.entries.filter(function (e) { return e.kind === 'call_published' || e.kind === 'criteria_changed'; })
        .map(function (e) { return e.payload.document_sha256; });
      for (i = 0; i < files.guidelines.length; i++) {
        if ((await C.sha256(C.canon(files.guidelines[i].doc))) !== digests[digests.length - 1]) {
          report.fail('files', null, files.guidelines[i].name + '：募集要項が記録されたハッシュと一致しません。');
        }
        report.facts.files.push(files.guidelines[i].name);
      }
      doc.entries.forEach(function (e) {
        if (e.kind !== 'results_published') return;
        [['document_sha256', '結果のPDF'], ['csv_sha256', '結果のCSV'], ['log_pdf_sha256', '記録のPDF']].forEach(function (x) {
          if (e.payload[x[0]] && !(e.payload[x[0]] in vouched)) vouched[e.payload[x[0]]] = x[1];
        });
      });
      C.projectDocuments(doc).forEach(function (d) { if (!(d.digest in vouched)) vouched[d.digest] = d.label; });
      // Fetched from where the city serves them (the button): each must have its own logged hash.
      var served = files.served || [];
      for (i = 0; i < served.length; i++) {
        var s = served[i];
        if (!s.bytes) report.fail('files', s.entry, s.label + '（' + s.path + '）を取得できません。');
        else if ((await C.sha256(s.bytes)) !== s.digest) report.fail('files', s.entry, s.label + '（' + s.path + '）が記録されたハッシュと一致しません。公開の後で変えられています。');
        else report.facts.files.push(s.label);
      }
      for (i = 0; i < files.blobs.length; i++) {
        var digest = await C.sha256(files.blobs[i].bytes);
        if (!(digest in vouched)) report.fail('files', null, files.blobs[i].name + '：記録や結果にあるどのハッシュとも一致しません。公表の後で変えられたか、別の文書です。');
        report.facts.files.push(files.blobs[i].name + (vouched[digest] ? '（' + vouched[digest] + '）' : ''));
      }
    }
    // The first failing entry, in log order, is what a reader needs first.
    report.problems.sort(function (a, b) { return (a.seq === null ? Infinity : a.seq) - (b.seq === null ? Infinity : b.seq); });
    return report;
  }

  window.KyodoVerify = { verifyBundle: verifyBundle, recompute: recompute };
})();
