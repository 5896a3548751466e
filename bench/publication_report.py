"""The section of bench/RESULTS.md on publication as a background job
(bench/publication_job.py, issue 13 item 6), appended by bench/run.py after
the sections of bench/report.py, in the same style: the target beside each
figure and whether it was met. Every number comes from the run."""
from __future__ import annotations

from bench.report import _mib, _ms, _ok, _s

# The figures issue 13 (item 6) sets.
TARGET_PUBLISH_REQUEST_SECONDS = 1.0
TARGET_AUTOSAVE_P95_RATIO = 1.5

TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
WINDOWS = {"before": "公表ボタンの前（何も動いていない）", "during": "ジョブの実行中（started_at → finished_at）",
           "after": "ジョブの終了後（何も動いていない）", "idle": "何も動いていないとき（前＋後）"}


def append_section(path, options, outcomes: list) -> None:
    measured = [o for o in outcomes if getattr(o, "publication_job", None)]
    if not measured:
        return
    with path.open("a", encoding="utf-8") as out:
        out.write("\n".join(section(options, measured)) + "\n")


def section(options, outcomes: list) -> list[str]:
    lines = [
        "## 5. 結果の公表（バックグラウンドジョブ）", "",
        ("`bench/publication_job.py`：公表できる状態の募集（決定を確定済み、未公表）を本番と同じ gunicorn 設定で配信し、"
         "ジョブワーカー（`flask --app wsgi worker`）を実際のキュー（SQLite では SQLite ファイル、PostgreSQL では Redis）で"
         "動かします。事務局がパスワードと確認コードでログインして「いま公表する」を押し、その間ずっと別の募集の応募者が"
         "下書きを自動保存します（編集画面と同じくフォーム全体を送信）。自動保存は送った時刻で、公表ボタンの前・ジョブの"
         "実行中・終了後に分けて集計します。"),
        "",
        "| 指標 | 目標 | " + " | ".join(o.name for o in outcomes) + " |",
        "|---|---|" + "---|" * len(outcomes),
        f"| 公表ボタンの応答（POST → リダイレクト） | < {TARGET_PUBLISH_REQUEST_SECONDS:g} 秒 | "
        + " | ".join(_request_cell(o.publication_job) for o in outcomes) + " |",
        "| ジョブ全体（created_at → finished_at） | 報告 | "
        + " | ".join(_job_cell(o.publication_job) for o in outcomes) + " |",
        f"| 自動保存の p95：ジョブ実行中／何も動いていないとき | ≤ {TARGET_AUTOSAVE_P95_RATIO:g}× | "
        + " | ".join(_autosave_cell(o.publication_job) for o in outcomes) + " |",
        "| ピークRSS：Webサーバー（マスター＋ワーカー）／ジョブワーカー | 報告 | "
        + " | ".join(_memory_cell(o.publication_job) for o in outcomes) + " |",
        "",
    ]
    for outcome in outcomes:
        lines += _details(outcome.name, outcome.publication_job)
    return lines


def _request_cell(figures: dict) -> str:
    seconds = figures.get("publish_request_s")
    if seconds is None:
        return "測定できず"
    return f"{seconds:.3f} 秒（{_ok(seconds < TARGET_PUBLISH_REQUEST_SECONDS and figures.get('publish_status') == 302)}）"


def _job_cell(figures: dict) -> str:
    job = figures.get("job") or {}
    if job.get("total_s") is None:
        return "測定できず" if not job else f"{job.get('status')}（終わらず）"
    ok = "" if job.get("status") == "done" else f"、**{job.get('status')}**"
    return f"{_s(job['total_s'])}（待機 {_s(job.get('queued_s'))}{ok}）"


def _autosave_cell(figures: dict) -> str:
    autosave = figures.get("autosave") or {}
    ratio = autosave.get("ratio_p95")
    if ratio is None:
        return "測定できず"
    during, idle = autosave["during"].get("p95"), autosave["idle"].get("p95")
    return f"{_ms(during)} / {_ms(idle)}（×{ratio:.3f}、{_ok(ratio <= TARGET_AUTOSAVE_P95_RATIO)}）"


def _memory_cell(figures: dict) -> str:
    memory = figures.get("memory") or {}
    if not memory:
        return "測定できず"
    return f"{_mib(memory.get('server_peak_rss'))} / {_mib(memory.get('worker_hwm'))}"


def _details(name: str, figures: dict) -> list[str]:
    lines = [f"### {TITLES.get(name, name)}", ""]
    if figures.get("errors"):
        lines += ["**この計測は途中で失敗しました：**", ""] + [f"- `{e}`" for e in figures["errors"]] + [""]
    sizes, data = figures.get("sizes") or {}, figures.get("data") or {}
    if data:
        counts = data.get("counts") or {}
        lines.append(
            f"- データ：提案 {sizes.get('proposals')} 件を {sizes.get('panel')} 人が 7 基準で採点（封印した採点票"
            f" {counts.get('sealed_sheets', 0):,} 枚）、決定を確定し未公表の募集（過去の年度の募集は作りません）。"
            f"作成 {data.get('build_seconds')} 秒。自動保存する応募者 {sizes.get('applicants')} 人"
            f"（作成 {data.get('prepare_seconds')} 秒）。キュー：{figures.get('queue')}"
            + (f"。ワーカーは nice {figures['worker_nice']} で起動（BENCH_WORKER_NICE）" if figures.get("worker_nice") else ""))
    if "publish_request_s" in figures:
        lines.append(f"- 公表ボタン：POST の応答 {_ms(figures['publish_request_s'] * 1000)}（状態 "
                     f"{figures.get('publish_status')}）、リダイレクト先の結果ページ（進み具合を表示）"
                     f" {_ms(figures.get('redirect_page_s', 0) * 1000)}。")
    job = figures.get("job") or {}
    if job:
        lines.append(f"- ジョブ：状態 {job.get('status')}、試行 {job.get('attempts')} 回、キューでの待機"
                     f"（created_at → started_at）{_s(job.get('queued_s'))}、実行（started_at → finished_at）"
                     f"{_s(job.get('running_s'))}、全体 {_s(job.get('total_s'))}。"
                     + (f"メッセージ：{job['message']}" if job.get("message") else ""))
        if job.get("stages"):
            lines += ["", "| 段階（ジョブの行を 0.2 秒ごとに読み、最初に見えた時刻から次の段階まで） | 秒 |", "|---|---|"]
            lines += [f"| {stage['stage']} | {_s(stage['seconds'])} |" for stage in job["stages"]]
            lines += ["", ("0.2 秒より短い段階（小さな募集の「集計」など）は見えないことがあり、その時間は次の段階に"
                           "含まれます。最後の段階は finished_at（ワーカーの時計）までです。"), ""]
    autosave = figures.get("autosave") or {}
    if autosave:
        lines += [f"- 自動保存：応募者 {autosave.get('applicants')} 人が、応答のたびに平均 {autosave.get('think_seconds')}"
                  f" 秒（0.5〜1.5倍）おいて保存し続けました。状態コード："
                  + "、".join(f"{code}: {count}" for code, count in sorted((autosave.get("statuses") or {}).items())),
                  "", "| 区間 | 件数 | p50 | p95 | p99 | 最大 |", "|---|---|---|---|---|---|"]
        for key, label in WINDOWS.items():
            row = autosave.get(key) or {}
            lines.append(f"| {label} | {row.get('count', 0)} | {_ms(row.get('p50'))} | {_ms(row.get('p95'))} | "
                         f"{_ms(row.get('p99'))} | {_ms(row.get('max'))} |")
        ratio = autosave.get("ratio_p95")
        met = None if ratio is None else ratio <= TARGET_AUTOSAVE_P95_RATIO
        lines += ["", (f"- p95 の比（実行中／何も動いていないとき）：{'—' if ratio is None else f'×{ratio:.3f}'}"
                       f"（目標 ≤ {TARGET_AUTOSAVE_P95_RATIO:g}×、{_ok(met)}）")]
        if autosave.get("client_seconds"):
            lines.append(f"- 計測側（応募者と事務局のクライアント、ジョブの行の読み取り）が使った CPU："
                         f"{autosave.get('client_cpu_seconds')} 秒 / {autosave.get('client_seconds')} 秒")
        lines += [f"  - {problem}" for problem in autosave.get("problems") or []]
    memory = figures.get("memory") or {}
    if memory:
        before, after = memory.get("before_job") or {}, memory.get("job_finished") or {}
        lines.append(
            f"- メモリ（/proc から 0.5 秒ごと、ウォームアップ後）：Webサーバー {memory.get('server_processes')} プロセスの"
            f"合計 RSS のピーク {_mib(memory.get('server_peak_rss'))}（公表直前 {_mib(before.get('server_rss'))}）。"
            f"起動からの各プロセスのピーク（VmHWM、応募者のログインの argon2id を含む）の合計"
            f" {_mib(memory.get('server_hwm_sum'))}、ワーカー1つの最大 {_mib(memory.get('server_worker_hwm_max'))}。"
            f"ジョブワーカーのピーク（VmHWM、ジョブのほかは何もしない）{_mib(memory.get('worker_hwm'))}（公表前 {_mib(before.get('worker_rss'))}、"
            f"終了時 {_mib(after.get('worker_rss'))}）。")
    cpu = memory.get("cpu") or {}
    if cpu:
        lines += ["", "| 区間 | 秒 | マシン全体の CPU（コア） | うち計測対象（Webサーバー・ワーカー・クライアント） | それ以外（データベース、他の利用者） |",
                  "|---|---|---|---|---|"]
        for key, label in (("before_job", "公表ボタンの前"), ("job_finished", "公表ボタン → ジョブの終了"),
                           ("end", "ジョブの終了後")):
            row = cpu.get(key)
            if row:
                lines.append(f"| {label} | {row['seconds']} | {row['machine_cores']} | {row['bench_cores']} | "
                             f"{row['other_cores']} |")
        lines.append("")
    staff = figures.get("staff_requests") or {}
    if staff:
        lines.append("- 事務局の画面：" + "、".join(
            f"{kind} {row.get('count')} 回 p50 {_ms(row.get('p50'))} 最大 {_ms(row.get('max'))}"
            for kind, row in sorted(staff.items())))
    check = figures.get("check") or {}
    if check:
        lines.append("- データベースでの確認：" + "、".join(f"{key} = {value}" for key, value in check.items()))
    lines.append("")
    return lines
