"""The figures the issue sets, checked by bench/run.py and written beside
each result by bench/report.py (RESULTS.md says met or not). A module of
their own so that the report does not import the harness."""
from __future__ import annotations

TARGET_RPS_RATIO = 0.8
TARGET_AGGREGATION_SECONDS = 1.0
TARGET_APPLICANTS = 200
