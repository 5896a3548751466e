"""Gunicorn settings for production: ``gunicorn --config gunicorn.conf.py``
(or ``make serve-prod``). nginx in front on the same host terminates TLS,
serves /static itself and proxies the rest here (docs/deployment.md).

Every number can be changed with an environment variable, so a systemd unit
tunes a server without editing this file.
"""
from __future__ import annotations

import multiprocessing
import os

# The app is wsgi.py next to this file, wherever gunicorn is started from.
chdir = os.path.dirname(os.path.abspath(__file__))
wsgi_app = "wsgi:app"

# Loopback only: nginx is the one client. Another app server behind a
# shared nginx binds its private address instead (PORTAL_BIND=10.0.0.12:8000).
bind = [os.environ.get("PORTAL_BIND", "127.0.0.1:8000")]

# The usual 2 x cores + 1 processes, each with a few threads: requests wait
# on PostgreSQL and on the disk (PDF downloads), and threads cover that wait
# cheaply. Each thread holds at most one database connection, so a server
# needs workers x threads connections (5 x 4 = 20 on two cores), well under
# PostgreSQL's default max_connections of 100 and within SQLAlchemy's
# default pool of 5 per process.
workers = int(os.environ.get("PORTAL_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("PORTAL_THREADS", 4))

# Publishing results renders two PDFs inside the request and can take tens
# of seconds for a large call; a worker silent for longer than this is hung.
# (gthread workers keep sending heartbeats while a thread works, so this
# catches a stuck process, not a slow request.)
timeout = int(os.environ.get("PORTAL_TIMEOUT", 120))
# On restart or reload, requests under way (an upload, a publication) get
# this long to finish before their worker is killed.
graceful_timeout = 30
# nginx keeps upstream connections open (keepalive_timeout 4s in the nginx
# example); gunicorn must keep them a little longer than nginx does, or nginx
# may send a request on a connection gunicorn is just closing.
keepalive = 5

# Restart each worker now and then: WeasyPrint and pikepdf can leave memory
# behind. Not too often: a restarted worker starts with an empty page cache
# and renders the results page of a large call again (a CPU-second). At 1,000
# requests, results day (hundreds of requests a second) restarted every worker
# every few seconds and cut the results page to a quarter of its speed
# (bench/). The jitter keeps the workers from all restarting at once.
max_requests = int(os.environ.get("PORTAL_MAX_REQUESTS", 50_000))
max_requests_jitter = max_requests // 10

# Each worker builds its own app (and its own SQLAlchemy engine and
# connection pool) after the fork. Preloading would save some memory, but the
# engine made in create_app would then be shared across the fork (it would
# need disposing in post_fork), and a HUP reload would keep the old code.
# Workers import the app in parallel, so starting is not much slower.
preload_app = False

# Headers from nginx on this host are trusted: X-Forwarded-Proto tells the
# app the visitor used HTTPS. Anything else connecting cannot set them.
forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs go to stdout/stderr, i.e. the systemd journal. %(D)s is the request
# time in microseconds; %(h)s is the visitor's address (see post_worker_init).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("PORTAL_LOG_LEVEL", "info")
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)sus'

# How many proxies in front of gunicorn set X-Forwarded-For (nginx: 1).
TRUSTED_PROXY_HOPS = int(os.environ.get("PORTAL_TRUSTED_PROXY_HOPS", 1))


def post_worker_init(worker):
    """Let the app see the visitor's address instead of nginx's 127.0.0.1.

    Failed logins are throttled per address (portal/auth/throttle.py): behind
    a proxy every request would come from 127.0.0.1, and thirty failures from
    anyone would lock everyone out. ProxyFix takes the address from the last
    X-Forwarded-For hop, which nginx sets (``proxy_set_header X-Forwarded-For
    $remote_addr``); it is safe because only nginx can reach ``bind``.
    """
    if TRUSTED_PROXY_HOPS <= 0:
        return
    from werkzeug.middleware.proxy_fix import ProxyFix

    # The scheme is gunicorn's own job (forwarded_allow_ips above).
    worker.wsgi = ProxyFix(worker.wsgi, x_for=TRUSTED_PROXY_HOPS)
