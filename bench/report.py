"""bench/RESULTS.md from one harness run (bench/run.py): the machine, then
each figure of issue 5 for each database, with the target beside it and
whether it was met. Nothing here is typed in by hand: every number comes
from the run that writes the file."""
from __future__ import annotations

from bench.targets import TARGET_AGGREGATION_SECONDS, TARGET_APPLICANTS, TARGET_RPS_RATIO

MIB = 1024 * 1024


def _ok(met: bool | None) -> str:
    if met is None:
        return "—"
    return "達成" if met else "**未達**"


def _ms(value) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def _s(value) -> str:
    return "—" if value is None else f"{value:,.2f} 秒"


def _mib(value) -> str:
    return "—" if not value else f"{value / MIB:,.1f} MiB"


def write_report(options, machine: dict, outcomes: list, elapsed: float) -> None:
    lines: list[str] = [
        "# ベンチマーク結果",
        "",
        "`make bench`（`python -m bench.run`）が書き出したファイルです。手で書き換えないでください。",
        "数値はすべて同じ1回の実行の中で、比べる相手と交互に測ったものです（このマシンは負荷の揺れが大きいため、",
        "絶対値より比率と分布を見てください）。測り方は README の「性能と負荷」と bench/run.py の冒頭にあります。",
        "",
    ]
    if options.quick:
        lines += ["> **--quick の実行です。** 小さなデータと短い計測で、ハーネスの動作確認にしか使えません。", ""]
    lines += ["## マシン", "", "| 項目 | 値 |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    lines += [f"| 所要時間（全体） | {elapsed / 60:,.1f} 分 |", ""]
    lines += [
        "## まとめ", "",
        "| 指標 | 目標 | " + " | ".join(o.name for o in outcomes) + " |",
        "|---|---|" + "---|" * len(outcomes),
    ]
    lines.append("| 1. 結果ページの毎秒リクエスト数（素のFlask比） | ≥ "
                 f"{TARGET_RPS_RATIO} | " + " | ".join(_ratio_cell(o, TARGET_RPS_RATIO) for o in outcomes) + " |")
    lines.append(f"| 2. 締切直前の同時提出（{options.applicants}団体）：消失・重複・5xx | 0・0・0 | "
                 + " | ".join(_deadline_cell(o) for o in outcomes) + " |")
    lines.append("| 3. クエリ数（10件と1,000件で同じ） | 一定 | "
                 + " | ".join(_queries_cell(o) for o in outcomes) + " |")
    lines.append(f"| 4. 300件×15人×7基準の集計 | < {TARGET_AGGREGATION_SECONDS:g} 秒 | "
                 + " | ".join(_aggregation_cell(o, TARGET_AGGREGATION_SECONDS) for o in outcomes) + " |")
    lines.append("| 4. 結果PDF（描画＋保存）／素のWeasyPrint | 報告 | "
                 + " | ".join(_pdf_cell(o) for o in outcomes) + " |")
    lines.append("")
    if options.applicants < TARGET_APPLICANTS:
        lines += [f"> 同時提出は {options.applicants} 団体で測りました（目標は {TARGET_APPLICANTS} 団体以上）。", ""]

    for outcome in outcomes:
        lines += _backend_section(outcome, options)
    options.output.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _ratio_cell(outcome, target: float) -> str:
    targets = (outcome.results_day or {}).get("targets") or {}
    ratio = (targets.get("results") or {}).get("ratio_median")
    if ratio is None:
        return "測定できず"
    return f"{ratio:.2f}（{_ok(ratio >= target)}）"


def _deadline_cell(outcome) -> str:
    check = outcome.deadline_check or {}
    if not check:
        return "測定できず"
    lost, duplicated, errors = check.get("lost"), check.get("duplicated"), check.get("server_errors")
    met = lost == 0 and duplicated == 0 and errors == 0 and check.get("receipts_unique")
    return f"{lost}・{duplicated}・{errors}（{_ok(bool(met))}）"


def _queries_cell(outcome) -> str:
    counts = [line for line in outcome.query_counts if " queries for " in line]
    if not counts:
        return "測定できず"
    passed = any(line.startswith("pytest:") and "passed" in line and "failed" not in line
                 for line in outcome.query_counts)
    return f"{len(counts)}画面（{_ok(passed)}）"


def _aggregation_cell(outcome, target: float) -> str:
    seconds = (outcome.aggregation or {}).get("total_max_s")
    if seconds is None:
        return "測定できず"
    return f"{seconds:.3f} 秒（{_ok(seconds < target)}）"


def _pdf_cell(outcome) -> str:
    pdf = outcome.pdf or {}
    if not pdf:
        return "測定できず"
    return f"{pdf['portal_s']:.1f} 秒 / {pdf['bare_s']:.1f} 秒（×{pdf['time_ratio']:.2f}）"


def _backend_section(outcome, options) -> list[str]:
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(outcome.name, outcome.name)
    lines = [f"## {title}", ""]
    if outcome.errors:
        lines += ["**この実行は途中で失敗しました：**", ""] + [f"- `{e}`" for e in outcome.errors] + [""]
    scale = outcome.scale or {}
    if scale:
        counts = scale.get("counts", {})
        timings = scale.get("timings", {})
        lines += [
            "### 規模データ", "",
            f"- 団体 {counts.get('groups', 0):,}、提案 {counts.get('proposals', 0):,}"
            f"（{scale['spec']['fiscal_years']}年度分、募集 {counts.get('calls', 0)} 件）、"
            f"結果公表日の募集は {scale['spec']['results_day_proposals']} 件を"
            f" {scale['spec']['panel']} 人が {scale['spec']['criteria']} 基準で採点（封印した採点票 "
            f"{counts.get('sealed_sheets', 0):,} 枚）。",
            f"- データベースの大きさ：{_mib(outcome.database_bytes)}",
            f"- 作成にかかった時間：{timings.get('accounts', 0) + timings.get('history', 0) + timings.get('results_day', 0):,.0f} 秒"
            f"（うち結果の公表 {timings.get('results_day_publish', 0):,.1f} 秒：結果PDFと記録PDFの描画を含む。"
            f"採点 {timings.get('results_day_scoring', 0):,.1f} 秒、匿名化の走査 {timings.get('results_day_anonymise', 0):,.1f} 秒）",
            "",
        ]
    day = outcome.results_day or {}
    if day:
        targets = day["targets"]
        names = {"bare": "素のFlask（同じページを固定で返す）", "results": "結果ページ `/calls/<slug>/results`",
                 "results_uncached": "結果ページ（ワーカー内キャッシュなし）", "results_pdf": "結果PDF",
                 "log": "審査プロセスの記録ページ"}
        lines += [
            "### 1. 結果公表日", "",
            f"同じ gunicorn 設定（gunicorn.conf.py、ワーカー {outcome.memory.get('workers', '?')}、gthread）で"
            f"素のFlaskと交互に {day['rounds']} 回ずつ、各 {day['duration']} 秒、同時接続 {day['connections']}"
            f"（wrk、ブラウザーと同じく `Accept-Encoding: gzip` を送る）。ページは {day['page_bytes']:,} バイト、"
            f"送られたのは {day.get('sent_bytes', day['page_bytes']):,} バイト（{day.get('encoding', 'identity')}）で、"
            "素のFlaskはこの同じバイト列を返します。",
            "",
            "| 対象 | 毎秒リクエスト（中央値） | 各回 | 比（素のFlask比） | p50 | p95 | p99 | 2xx以外 | 接続エラー |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for key, label in names.items():
            row = targets.get(key)
            if not row:
                continue
            ratio = row.get("ratio_median")
            ratio_text = "—" if ratio is None else f"{ratio:.2f}（各回 {', '.join(map(str, row['ratio_rounds']))}）"
            lines.append(f"| {label} | {row['rps_median']:,.0f} | {', '.join(map(str, row['rps_rounds']))} | "
                         f"{ratio_text} | {_ms(row['p50_ms'])} | {_ms(row['p95_ms'])} | {_ms(row['p99_ms'])} | "
                         f"{row['non_2xx']} | {row['socket_errors']} |")
        lines += ["", f"- 負荷後のメモリ（マスター＋ワーカー、RSS）：ポータル {_mib(outcome.memory.get('portal_rss'))}、"
                      f"素のFlask {_mib(outcome.memory.get('bare_rss'))}", ""]
    run = outcome.deadline or {}
    check = outcome.deadline_check or {}
    if run:
        lines += ["### 2. 締切直前", ""] + _deadline_lines(run, check) + [""]
    if outcome.query_counts:
        lines += ["### 3. クエリ数（tests/test_query_counts.py）", ""]
        lines += [f"- {line}" for line in outcome.query_counts] + [""]
    aggregation = outcome.aggregation or {}
    if aggregation:
        lines += [
            "### 4. 集計と結果PDF", "",
            f"- 集計：提案 {aggregation['proposals']} 件、採点票 {aggregation['sheets']:,} 枚、"
            f"基準 {aggregation['criteria']}、委員 {aggregation['reviewers']} 人。データベースからの読み込みを含めて"
            f" 中央値 {_s(aggregation['total_median_s'])}、最大 {_s(aggregation['total_max_s'])}（5回）。"
            f"うち読み込み {_s(aggregation['gather_median_s'])}、計算（厳密な10進・有理数演算）"
            f" {_s(aggregation['core_median_s'])}。",
        ]
        pdf = outcome.pdf or {}
        if pdf:
            lines += [
                f"- 結果PDF：ポータルの描画（PDF/UA-1 タグ付き、フォント埋め込み、外部取得なし）と保存で"
                f" {_s(pdf['portal_s'])}、{pdf['portal_pages']} ページ、{_mib(pdf['portal_bytes'])}。"
                f"同じHTMLと同じCSSを素の WeasyPrint で描画すると {_s(pdf['bare_s'])}、{pdf['bare_pages']} ページ、"
                f"{_mib(pdf['bare_bytes'])}（時間の比 ×{pdf['time_ratio']:.2f}）。HTML は {pdf['html_bytes']:,} バイト。",
            ]
        lines.append("")
    return lines


KIND_LABELS = {
    "login_page": "ログイン画面", "login": "ログイン", "edit_get": "編集画面を開く", "autosave": "自動保存",
    "confirm": "確認画面", "submit": "提出", "after_submit": "提出後の画面（二度押しの2回目を含む）",
    "receipt": "受付票の画面",
}


def _deadline_lines(run: dict, check: dict) -> list[str]:
    lines = []
    kinds = run.get("latency_ms") or {}
    statuses = run.get("status_counts") or {}
    throughput = run.get("throughput") or {}
    lines.append(
        f"- 団体 {run.get('applicants', '?')}（うち二度押し {run.get('double_submitters', '?')}）が同時に"
        f"「編集画面→自動保存×{(run.get('settings') or {}).get('autosaves', '?')}→確認→提出→受付票」を行い、"
        f"{run.get('completed', '?')} 団体が完了。締切前の操作にかかった時間 {run.get('deadline_phase_seconds', 0):,.1f} 秒"
        f"（毎秒 {throughput.get('requests_per_second', '?')} リクエスト、毎秒 {throughput.get('submissions_per_second', '?')} 件の提出）。"
        f"その前のログイン（argon2id、本番の強さ）に {run.get('login_phase_seconds', 0):,.1f} 秒。")
    lines.append(f"- 5xx {run.get('server_errors', '?')}、通信エラー {run.get('transport_errors', '?')}、"
                 f"自動保存の競合 {run.get('autosave_conflicts', '?')}、時間切れ {run.get('deadline_reached', '?')}")
    if kinds:
        lines += ["", "| 操作 | 件数 | p50 | p95 | p99 | 最大 | 状態コード |", "|---|---|---|---|---|---|---|"]
        for kind, figures in kinds.items():
            codes = ", ".join(f"{code}: {count}" for code, count in (statuses.get(kind) or {}).items())
            lines.append(f"| {KIND_LABELS.get(kind, kind)} | {figures.get('count', '')} | {_ms(figures.get('p50'))} | "
                         f"{_ms(figures.get('p95'))} | {_ms(figures.get('p99'))} | {_ms(figures.get('max'))} | {codes} |")
        lines.append("")
    if check:
        lines.append("- データベースでの確認：" + "、".join(f"{key} = {value}" for key, value in check.items()
                                                  if not isinstance(value, (list, dict))))
        problems = [f"{key}: {value}" for key, value in check.items() if isinstance(value, list) and value]
        lines += [f"  - {problem}" for problem in problems[:10]]
    for problem in (run.get("problems") or [])[:10]:
        lines.append(f"  - {problem}")
    if run.get("server_rss"):
        lines.append(f"- 負荷後のメモリ（RSS）：{_mib(run['server_rss'])}")
    return lines
