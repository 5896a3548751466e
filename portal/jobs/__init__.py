"""Background jobs: long or external work runs in a worker, not in a request.

- ``queue``: the Huey instance of an app (SQLite file by default, Redis in
  production), and enqueueing after the commit of the change that asked.
- ``tasks``: what the worker runs (a job row's work, one mail's delivery,
  the periodic sweep that recovers what a dead worker left).
- ``progress``: a job's row, written in short transactions of its own.
- ``publish_job``: publication of a call's results as a job.
"""
