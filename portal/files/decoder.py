"""Image decoding in a child process of its own (issue 13: hostile images).

Decoding a large image takes a core and up to MAX_DECODE_BYTES for a
second or more. Done in the web worker, the memory stays with that
process after the request (glibc keeps freed heap), and the work competes
with every other request the worker serves. So the decode runs in a fresh
child, forked from a small server process that has Pillow loaded already:
the child lowers its CPU priority, is capped in address space, and gives
all its memory back to the system when it exits after one image. A child
that dies (killed for memory, or a crash in a decoder) costs the upload a
Japanese message, never the web worker.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .decode_budget import MAX_DECODE_BYTES, DecodeRefused

# The child's CPU priority below the web workers'.
CHILD_NICE = 10
# Address space of a child: Python, Pillow and pikepdf mapped (about
# 300 MB of it, mostly not resident) plus the decode's own budget. A
# backstop only: the header check in decode_budget is the real bound.
CHILD_ADDRESS_SPACE = 768 * 1024 * 1024 + MAX_DECODE_BYTES
# How long one decode may take before the upload is refused.
CHILD_TIMEOUT_SECONDS = 60

_context = multiprocessing.get_context("forkserver")
# Children are forked from the server with these already imported, so a
# decode does not pay for importing Pillow.
_context.set_forkserver_preload(["portal.files.sanitize"])


def _limit_child(nice: int, address_space: int) -> None:
    os.nice(nice)
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))


def run_in_child(function, *args):
    """``function(*args)`` in a fresh child process; its result or its
    exception (pickled back). :class:`DecodeRefused` when the child died or
    took too long."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=_context, initializer=_limit_child,
                               initargs=(CHILD_NICE, CHILD_ADDRESS_SPACE), max_tasks_per_child=1)
    try:
        return pool.submit(function, *args).result(timeout=CHILD_TIMEOUT_SECONDS)
    except BrokenProcessPool:
        raise DecodeRefused("画像を処理できませんでした。ファイルが壊れていないか、大きすぎないか確認してください。") from None
    except TimeoutError:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()  # a decoder stuck on a hostile file
        raise DecodeRefused("画像の処理に時間がかかりすぎました。解像度を下げて保存し直してから添付してください。") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
