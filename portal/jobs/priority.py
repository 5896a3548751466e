"""The job worker's CPU priority, set once when ``flask worker`` starts,
before its threads exist (Linux threads inherit the policy of the thread
that creates them)."""
from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)
POLICIES = ("idle", "normal")


def lower_cpu_priority(nice: int, policy: str) -> str:
    """Lower this process's CPU priority; return the policy in force.

    ``nice`` only weights the share of CPU time: at nice 10 a worker
    rendering PDFs still takes about a tenth of a core that a web worker
    wants, and the autosave of an applicant waits on a busy two-core
    server. SCHED_IDLE gives the worker only the time nothing else wants.
    A process may always lower its own priority, so no privilege is needed;
    where the system has no SCHED_IDLE the nice value alone applies."""
    if policy not in POLICIES:
        raise ValueError(f"JOB_WORKER_CPU_POLICY は {' / '.join(POLICIES)} のどちらかです（{policy!r}）。")
    if nice:
        os.nice(nice)
    if policy == "idle":
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except (AttributeError, OSError) as error:  # not Linux, or refused by a sandbox
            log.warning("SCHED_IDLE is not available (%s); the worker runs at nice %s only", error, nice)
            return "normal"
    return policy
