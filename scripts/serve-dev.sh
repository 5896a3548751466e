#!/usr/bin/env bash
# `make run`'s server: the job worker (publication, mail) in the background
# and the web server in the foreground, on the embedded defaults (SQLite
# database, SQLite queue file, local files). Stopping the web server
# (Ctrl-C) stops the worker too.
set -euo pipefail
flask=("$@")
"${flask[@]}" worker &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM
"${flask[@]}" run --host 127.0.0.1 --port 5000
