"""The processes of a job benchmark (bench/publication_job.py): the job
worker (``flask --app wsgi worker``) started beside the bench's gunicorn,
and the resident memory of both read from /proc while they work (psutil is
not a dependency: /proc/<pid>/status has VmRSS, and VmHWM, a process's own
peak). Between marks, the CPU the whole machine used and the part the
bench's own processes used (server, worker, clients): the rest is the
database server and whatever else shares the machine."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path


def _memory(pid: int) -> dict[str, int]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return values


def _tree(pid: int) -> list[int]:
    from bench.run import _children

    pids = [pid]
    for child in _children(pid):
        pids += _tree(child)
    return pids


class Worker:
    """``flask --app wsgi worker`` with the server's settings, stopped on exit."""

    def __init__(self, env: dict[str, str], log_path: Path, nice: int = 0) -> None:
        self.env, self.log_path, self.nice = env, log_path, nice
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        from bench.run import ROOT, VENV_BIN

        with self.log_path.open("wb") as log:
            command = ["nice", "-n", str(self.nice)] if self.nice else []  # nice execs: the pid is flask's
            self.process = subprocess.Popen([*command, str(VENV_BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT,
                                            env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + 60
        while "ジョブワーカーを起動します" not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the job worker did not start; see {self.log_path}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # Huey's graceful stop
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(values[:8])  # guest time is already counted in user
    return total - values[3] - values[4], total


class MemorySampler(threading.Thread):
    """Peak resident memory of the server (master + workers) and of the job worker."""

    def __init__(self, server_pid: int, worker_pid: int) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.server_pid, self.worker_pid = server_pid, worker_pid
        self.stop_event = threading.Event()
        self.server_peak = self.worker_peak = 0
        self.marks: dict[str, dict] = {}
        self.cpu_marks: list[tuple[str, float, int, int, int]] = []

    def sample(self) -> tuple[int, int]:
        server = sum(_memory(pid).get("VmRSS", 0) for pid in _tree(self.server_pid))
        worker = sum(_memory(pid).get("VmRSS", 0) for pid in _tree(self.worker_pid))
        self.server_peak, self.worker_peak = max(self.server_peak, server), max(self.worker_peak, worker)
        return server, worker

    def reset(self) -> None:
        """Peaks from now on (VmHWM, a process's own, cannot be reset)."""
        self.server_peak = self.worker_peak = 0
        self.sample()

    def mark(self, name: str) -> None:
        server, worker = self.sample()
        self.marks[name] = {"server_rss": server, "worker_rss": worker}
        ours = sum(_ticks(pid) for pid in {*_tree(self.server_pid), *_tree(self.worker_pid), os.getpid()})
        self.cpu_marks.append((name, time.monotonic(), *_machine_ticks(), ours))

    def cpu(self) -> dict[str, dict]:
        """Cores in use between consecutive marks, named by the later mark."""
        per_second, cores = os.sysconf("SC_CLK_TCK"), os.cpu_count() or 1
        phases = {}
        for (_n, t0, busy0, total0, ours0), (name, t1, busy1, total1, ours1) in zip(
                self.cpu_marks, self.cpu_marks[1:]):
            machine = cores * (busy1 - busy0) / max(total1 - total0, 1)
            ours = (ours1 - ours0) / per_second / max(t1 - t0, 1e-9)
            phases[name] = {"seconds": round(t1 - t0, 1), "machine_cores": round(machine, 2),
                            "bench_cores": round(ours, 2), "other_cores": round(max(machine - ours, 0.0), 2)}
        return phases

    def run(self) -> None:
        while not self.stop_event.wait(0.5):
            self.sample()

    def figures(self) -> dict:
        self.sample()
        server_pids = _tree(self.server_pid)
        return {"server_peak_rss": self.server_peak, "worker_peak_rss": self.worker_peak,
                "server_processes": len(server_pids),
                "server_hwm_sum": sum(_memory(pid).get("VmHWM", 0) for pid in server_pids),
                "server_worker_hwm_max": max((_memory(pid).get("VmHWM", 0) for pid in server_pids[1:]), default=0),
                "worker_hwm": _memory(self.worker_pid).get("VmHWM", 0), "cpu": self.cpu(), **self.marks}


