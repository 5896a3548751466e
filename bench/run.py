"""The benchmark harness: ``make bench`` (or ``python -m bench.run``).

For each database (SQLite, then PostgreSQL) it

1. makes the scale data in an empty database (``bench.scale_data``: 2,000
   groups, 5,000 proposals over 10 fiscal years, a 300-proposal call scored
   by 15 reviewers on 7 criteria and published);
2. times the aggregation of that call and the rendering of its results PDF
   beside a bare WeasyPrint render of the same HTML (figure 4);
3. starts the portal under the production gunicorn settings
   (``gunicorn.conf.py``, PORTAL_ENV=production) and, under the very same
   settings, a bare Flask app that returns the portal's results page as a
   fixed page; wrk then loads both in alternating rounds, so the ratio of
   requests per second is measured side by side (figure 1);
4. plays deadline day against the portal (``bench.deadline``: hundreds of
   applicants autosaving and submitting at once) and checks the database
   afterwards (figure 2);
5. runs ``tests/test_query_counts.py`` on that database engine (figure 3);
6. publishes a call's results as a background job on a real worker and
   queue, with applicants autosaving meanwhile (``bench.publication_job``,
   in a database of its own).

``--steps`` runs some of them (e.g. ``--steps publication-job``).

Everything is written to ``bench/RESULTS.md`` with a description of the
machine. Servers bind 127.0.0.1 on free ports, every load has a fixed
duration or count, and every process the harness starts is stopped by it.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# The figures the issue sets (checked, not assumed: RESULTS.md says met or not).
from bench.targets import TARGET_APPLICANTS

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "RESULTS.md"
VENV_BIN = Path(sys.executable).parent
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "portal_bench"
LOOPBACK = "127.0.0.1"
STEPS = ("scale", "aggregation", "results-day", "deadline", "query-counts", "publication-job")
NEEDS_SCALE = {"aggregation", "results-day", "deadline"}  # they read the scale data (or its migrated schema)


@dataclass
class Options:
    backends: list[str]
    duration: int = 10
    rounds: int = 3
    connections: int = 32
    applicants: int = TARGET_APPLICANTS
    autosaves: int = 5
    pdf_rounds: int = 2
    quick: bool = False
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL
    output: Path = RESULTS
    steps: tuple[str, ...] = STEPS


@dataclass
class BackendResult:
    name: str
    database_url: str = ""
    scale: dict = field(default_factory=dict)
    database_bytes: int = 0
    aggregation: dict = field(default_factory=dict)
    pdf: dict = field(default_factory=dict)
    results_day: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)
    deadline: dict = field(default_factory=dict)
    deadline_check: dict = field(default_factory=dict)
    query_counts: list[str] = field(default_factory=list)
    publication_job: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


# -- processes ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn started with the production settings, stopped on exit."""

    def __init__(self, name: str, app: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://{LOOPBACK}:{self.port}"
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.env = {**os.environ, **env, "PORTAL_BIND": f"{LOOPBACK}:{self.port}"}
        self.app = app
        self.process: subprocess.Popen | None = None

    def start(self, probe_path: str) -> None:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), self.app],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + probe_path, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name}: no answer within 60 s; see {self.log_path}")

    def rss_bytes(self) -> int:
        """Resident memory of the master and its workers."""
        if self.process is None:
            return 0
        total = 0
        pids = [self.process.pid] + _children(self.process.pid)
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@contextmanager
def servers(*items: Server):
    try:
        yield items
    finally:
        for server in items:
            server.stop()


def wrk(url: str, *, duration: int, connections: int) -> dict:
    """One bounded wrk run against a loopback URL; its JSON summary."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError("load is only ever sent to 127.0.0.1")
    # Every browser says it accepts gzip; so does the load.
    command = ["wrk", "--threads", "2", "--connections", str(connections), "--duration", f"{duration}s",
               "--timeout", "10s", "--header", "Accept-Encoding: gzip",
               "--script", str(ROOT / "bench" / "wrk_report.lua"), url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    summary = json.loads(line.removeprefix("WRK_JSON "))
    seconds = summary["duration_us"] / 1e6
    summary["rps"] = summary["requests"] / seconds if seconds else 0.0
    return summary


# -- the machine ---------------------------------------------------------------------------

def machine_description(pg_admin_url: str | None) -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = next((line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "unknown")
    described = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": f"{cpu} × {os.cpu_count()} logical cores",
        "memory": memory,
        "os": f"{platform.system()} {platform.release()} (Debian {_read('/etc/debian_version')})",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load average at start": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }
    for package in ("flask", "sqlalchemy", "gunicorn", "weasyprint"):
        described[package] = _version(package)
    described["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0][:60] \
        if shutil.which("wrk") else "not installed"
    if pg_admin_url:
        try:
            from sqlalchemy import create_engine, text

            engine = create_engine(pg_admin_url)
            with engine.connect() as connection:
                described["postgresql"] = connection.execute(text("SHOW server_version")).scalar_one()
            engine.dispose()
        except Exception as error:  # noqa: BLE001 - reported, not fatal
            described["postgresql"] = f"unreachable ({type(error).__name__})"
    return described


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return "?"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


# -- databases -------------------------------------------------------------------------------

def fresh_database(backend: str, options: Options, work: Path) -> str:
    if backend == "sqlite":
        path = work / "portal.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text

    engine = create_engine(options.pg_admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    engine.dispose()
    return options.pg_admin_url.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}"


def drop_database(backend: str, options: Options) -> None:
    if backend != "postgresql":
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(options.pg_admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
    engine.dispose()


def database_bytes(database_url: str) -> int:
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists())
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return int(size)


# -- figure 4: aggregation and the results PDF -------------------------------------------------

def measure_aggregation_and_pdf(database_url: str, work: Path, slug: str, pdf_rounds: int) -> tuple[dict, dict]:
    from sqlalchemy import select
    from weasyprint import CSS, HTML

    from portal import create_app
    from portal.db import db_session
    from portal.domain.results import publication, result_pdfs, results
    from portal.files import storage
    from portal.files.objectstore import store_of
    from portal.models import Call
    from portal.pdf import STYLESHEET

    app = create_app("development", app_overrides(database_url, work))
    aggregation: dict = {}
    pdf: dict = {}
    with app.app_context():
        call = db_session.scalar(select(Call).where(Call.slug == slug))
        call_id = call.id
        totals, cores, gathers = [], [], []
        for _ in range(5):
            db_session.remove()  # nothing cached from the last round: reads the database again
            call = db_session.get(Call, call_id)
            started = time.perf_counter()
            inputs = results.gather(db_session, call)
            gathered = time.perf_counter()
            result = results.aggregate(inputs)
            finished = time.perf_counter()
            gathers.append(gathered - started)
            cores.append(finished - gathered)
            totals.append(finished - started)
        aggregation = {
            "proposals": len(inputs.proposals), "sheets": len(inputs.sheets),
            "criteria": len(inputs.criteria), "reviewers": len({s.reviewer_key for s in inputs.sheets}),
            "ranked": sum(1 for p in result.proposals if p.rank is not None),
            "total_median_s": statistics.median(totals), "total_max_s": max(totals),
            "gather_median_s": statistics.median(gathers), "core_median_s": statistics.median(cores),
        }

        document = publication.latest(db_session, call).results
        city = app.config["CITY_NAME"]
        html = result_pdfs.results_html(document, city_name=city)
        stylesheet = STYLESHEET.read_text(encoding="utf-8")
        portal_times, bare_times = [], []
        portal_bytes = bare_bytes = b""
        for _ in range(pdf_rounds):  # alternating, so drift in the machine's speed hits both
            started = time.perf_counter()
            portal_bytes = result_pdfs.render_results_pdf(document, city_name=city)
            storage.write_generated(db_session, store_of(app), portal_bytes)
            portal_times.append(time.perf_counter() - started)
            db_session.rollback()
            started = time.perf_counter()
            bare_bytes = HTML(string=html).write_pdf(stylesheets=[CSS(string=stylesheet)])
            bare_times.append(time.perf_counter() - started)
        pdf = {
            "html_bytes": len(html.encode()),
            "portal_s": statistics.median(portal_times), "portal_bytes": len(portal_bytes),
            "portal_pages": _pages(portal_bytes),
            "bare_s": statistics.median(bare_times), "bare_bytes": len(bare_bytes), "bare_pages": _pages(bare_bytes),
        }
        pdf["time_ratio"] = pdf["portal_s"] / pdf["bare_s"] if pdf["bare_s"] else None
        db_session.remove()
    app.extensions["engine"].dispose()
    return aggregation, pdf


def _pages(data: bytes) -> int:
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as document:
        return len(document.pages)


def app_overrides(database_url: str, work: Path) -> dict:
    return {"DATABASE_URL": database_url, "UPLOAD_DIR": work / "uploads",
            "LOG_SIGNING_KEY_PATH": str(work / "log-signing-key.pem")}


def server_env(database_url: str, work: Path, **extra: str) -> dict[str, str]:
    return {
        "PORTAL_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": database_url,
        "PORTAL_UPLOAD_DIR": str(work / "uploads"), "PORTAL_INSTANCE_DIR": str(work / "instance"),
        "LOG_SIGNING_KEY_PATH": str(work / "log-signing-key.pem"), "PORTAL_BASE_URL": "https://kyodo.example.jp",
        "PYTHONPATH": str(ROOT), **extra,
    }


# -- figure 1: results day -----------------------------------------------------------------

def measure_results_day(database_url: str, work: Path, slug: str, options: Options) -> tuple[dict, dict]:
    results_path = f"/calls/{slug}/results"
    portal = Server("portal", "wsgi:app", server_env(database_url, work), work)
    uncached = Server("portal-uncached", "wsgi:app",
                      server_env(database_url, work, PORTAL_RESULTS_PAGE_CACHE_SECONDS="0"), work)
    with servers(portal, uncached):
        portal.start(results_path)
        uncached.start(results_path)
        with urllib.request.urlopen(portal.base_url + results_path, timeout=30) as response:
            page = response.read()
        browser_request = urllib.request.Request(portal.base_url + results_path, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(browser_request, timeout=30) as response:
            sent = response.read()  # as the portal sends it to a browser (urllib does not decompress)
            encoding = response.headers.get("Content-Encoding", "")
        fixed_page = work / "fixed-page.html"
        fixed_page.write_bytes(sent)
        bare = Server("bare-flask", "bench.bare_app:app", {"BENCH_FIXED_PAGE": str(fixed_page),
                                                           "BENCH_FIXED_ENCODING": encoding,
                                                           "PYTHONPATH": str(ROOT)}, work)
        with servers(bare):
            bare.start("/fixed")
            targets = {
                "bare": bare.base_url + "/fixed",
                "results": portal.base_url + results_path,
                "results_uncached": uncached.base_url + results_path,
                "results_pdf": portal.base_url + results_path + ".pdf",
                "log": portal.base_url + f"/calls/{slug}/log",
            }
            for url in targets.values():  # warm every worker's cache and imports
                wrk(url, duration=2, connections=options.connections)
            runs: dict[str, list[dict]] = {name: [] for name in targets}
            for _ in range(options.rounds):
                for name, url in targets.items():
                    runs[name].append(wrk(url, duration=options.duration, connections=options.connections))
            memory = {"portal_rss": portal.rss_bytes(), "bare_rss": bare.rss_bytes(),
                      "workers": int(portal.env.get("PORTAL_WORKERS") or (os.cpu_count() or 1) * 2 + 1)}
    figures: dict = {"page_bytes": len(page), "sent_bytes": len(sent), "encoding": encoding or "identity",
                     "connections": options.connections, "duration": options.duration,
                     "rounds": options.rounds, "targets": {}}
    for name, items in runs.items():
        figures["targets"][name] = {
            "rps_median": statistics.median(r["rps"] for r in items),
            "rps_rounds": [round(r["rps"], 1) for r in items],
            "p50_ms": statistics.median(r["latency_us"]["p50"] for r in items) / 1000,
            "p95_ms": statistics.median(r["latency_us"]["p95"] for r in items) / 1000,
            "p99_ms": statistics.median(r["latency_us"]["p99"] for r in items) / 1000,
            "non_2xx": sum(sum(c for s, c in r["statuses"].items() if not s.startswith("2")) for r in items),
            "socket_errors": sum(sum(v for k, v in r["errors"].items() if k != "status") for r in items),
            "requests": sum(r["requests"] for r in items),
        }
    # The ratio per round (bare and portal measured one after the other),
    # then the median: a slow moment of the machine hits one round, not all.
    for name in ("results", "results_uncached"):
        ratios = [p["rps"] / b["rps"] for p, b in zip(runs[name], runs["bare"], strict=True) if b["rps"]]
        figures["targets"][name]["ratio_rounds"] = [round(r, 3) for r in ratios]
        figures["targets"][name]["ratio_median"] = statistics.median(ratios) if ratios else None
    return figures, memory


# -- figure 2: deadline day ------------------------------------------------------------------

def measure_deadline(database_url: str, work: Path, options: Options) -> tuple[dict, dict]:
    from bench import deadline

    prepared = deadline.prepare(database_url, applicants=options.applicants, password=secrets.token_urlsafe(12),
                                closes_in_minutes=30)
    portal = Server("portal-deadline", "wsgi:app", server_env(database_url, work), work)
    with servers(portal):
        portal.start("/")
        run = deadline.run(portal.base_url, prepared, concurrency=options.applicants, autosaves=options.autosaves)
        run["server_rss"] = portal.rss_bytes()
    check = deadline.verify(database_url, prepared, run)
    return run, check


# -- figure 3: queries ---------------------------------------------------------------------------

def measure_query_counts(backend: str, options: Options) -> list[str]:
    env = {**os.environ}
    if backend == "postgresql":
        env["TEST_DATABASE_URL"] = options.pg_admin_url
    else:
        env.pop("TEST_DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/test_query_counts.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    lines = [line.strip() for line in completed.stdout.splitlines() if " queries for " in line]
    summary = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else "no output"
    return lines + [f"pytest: {summary}"]


# -- the whole run ----------------------------------------------------------------------------------

def run_backend(backend: str, options: Options) -> BackendResult:
    from bench import scale_data

    result = BackendResult(backend)
    work = WORK / backend
    shutil.rmtree(work, ignore_errors=True)
    (work / "uploads").mkdir(parents=True)
    (work / "instance").mkdir()
    database_url = fresh_database(backend, options, work)
    result.database_url = database_url.split("@")[-1]
    steps = set(options.steps)
    try:
        if steps & (NEEDS_SCALE | {"scale"}):
            spec = quick_spec() if options.quick else scale_data.ScaleSpec()
            print(f"[{backend}] scale data …", flush=True)
            report = scale_data.build(database_url, spec, upload_dir=work / "uploads",
                                      overrides={"LOG_SIGNING_KEY_PATH": str(work / "log-signing-key.pem")})
            result.scale = report.as_dict()
            result.database_bytes = database_bytes(database_url)
            slug = report.results_call_slug
        if "aggregation" in steps:
            print(f"[{backend}] aggregation and PDF …", flush=True)
            # In a process of its own, as the aggregation runs in production (a
            # web worker or flask publish-due): this one has just made the scale
            # data, and a garbage collection of what that left made the first
            # round seconds slower than any real run.
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                result.aggregation, result.pdf = pool.apply(measure_aggregation_and_pdf,
                                                            (database_url, work, slug, options.pdf_rounds))
        if "results-day" in steps:
            print(f"[{backend}] results day …", flush=True)
            result.results_day, result.memory = measure_results_day(database_url, work, slug, options)
        if "deadline" in steps:
            print(f"[{backend}] deadline day …", flush=True)
            result.deadline, result.deadline_check = measure_deadline(database_url, work, options)
        if "query-counts" in steps:
            print(f"[{backend}] query counts …", flush=True)
            result.query_counts = measure_query_counts(backend, options)
        if "publication-job" in steps:
            from bench import publication_job

            print(f"[{backend}] publication job …", flush=True)
            result.publication_job = publication_job.measure(backend, options, work / "publication")
            result.errors += [f"publication job: {e}" for e in result.publication_job.get("errors", [])]
    except Exception as error:  # noqa: BLE001 - the report says what failed; the other backend still runs
        import traceback

        traceback.print_exc()
        result.errors.append(f"{type(error).__name__}: {error}")
    finally:
        drop_database(backend, options)
    return result


def quick_spec():
    from bench.scale_data import ScaleSpec

    return ScaleSpec(groups=200, proposals=400, fiscal_years=3, panel=5, criteria=7, results_day_proposals=40)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="性能・負荷・規模のベンチマーク（結果は bench/RESULTS.md）")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--applicants", type=int, default=TARGET_APPLICANTS)
    parser.add_argument("--autosaves", type=int, default=5)
    parser.add_argument("--pdf-rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="small data and short rounds: checks the harness")
    parser.add_argument("--pg-admin-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_ADMIN_URL))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated, of: " + ", ".join(STEPS))
    args = parser.parse_args(argv)
    steps = tuple(step.strip() for step in args.steps.split(",") if step.strip())
    options = Options(backends=[b.strip() for b in args.backends.split(",") if b.strip()],
                      duration=args.duration, rounds=args.rounds, connections=args.connections,
                      applicants=args.applicants, autosaves=args.autosaves, pdf_rounds=args.pdf_rounds,
                      quick=args.quick, pg_admin_url=args.pg_admin_url, output=args.output, steps=steps)
    if options.quick:
        options.duration, options.rounds, options.pdf_rounds = min(options.duration, 3), 1, 1
        options.applicants = min(options.applicants, 50)
    unknown = set(options.backends) - {"sqlite", "postgresql"}
    if set(steps) - set(STEPS):
        parser.error(f"unknown step {set(steps) - set(STEPS)}")
    if unknown or ("results-day" in steps and not shutil.which("wrk")):
        parser.error(f"unknown backend {unknown}" if unknown else
                     "wrk がありません: scripts/system-deps.sh bench でインストールしてください。")
    machine = machine_description(options.pg_admin_url if "postgresql" in options.backends else None)
    started = time.perf_counter()
    outcomes = [run_backend(backend, options) for backend in options.backends]
    elapsed = time.perf_counter() - started
    from bench.report import write_report

    write_report(options, machine, outcomes, elapsed)
    from bench.publication_report import append_section

    append_section(options.output, options, outcomes)
    (WORK / "results.json").write_text(json.dumps(
        {"machine": machine, "results": [o.__dict__ for o in outcomes]}, ensure_ascii=False, indent=2,
        default=str))
    print(f"wrote {options.output}")
    return 1 if any(o.errors for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
