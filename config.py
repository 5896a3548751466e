"""Configuration classes.

Development is explicit and safe to run on a laptop; production refuses to
start without a real secret key and secure cookies (see ``ProductionConfig.check``).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PORTAL_INSTANCE_DIR", BASE_DIR / "instance"))


class BaseConfig:
    TIMEZONE = "Asia/Tokyo"
    CITY_NAME = os.environ.get("PORTAL_CITY_NAME", "みなと市")
    # 通知書 (portal/domain/results/notices.py): the sender as printed, and
    # the 文書番号 prefix ("みなと市協第" gives みなと市協第12号).
    CITY_HEAD_TITLE = os.environ.get("PORTAL_CITY_HEAD_TITLE", "みなと市長")
    CITY_HEAD_NAME = os.environ.get("PORTAL_CITY_HEAD_NAME", "港 太郎")
    NOTICE_NUMBER_PREFIX = os.environ.get("PORTAL_NOTICE_NUMBER_PREFIX", "みなと市協第")
    # お問い合わせ (footer, contact, privacy and accessibility pages). Until
    # the phone and mail are set the pages say the city is preparing them.
    CONTACT_DEPARTMENT = os.environ.get("PORTAL_CONTACT_DEPARTMENT", "市民協働課")
    CONTACT_PHONE = os.environ.get("PORTAL_CONTACT_PHONE", "")
    CONTACT_EMAIL = os.environ.get("PORTAL_CONTACT_EMAIL", "")
    CONTACT_HOURS = os.environ.get("PORTAL_CONTACT_HOURS", "平日 8時30分～17時15分（土日祝日・年末年始を除く）")
    # The date of the last accessibility check stated on /accessibility.
    ACCESSIBILITY_CHECKED_ON = os.environ.get("PORTAL_ACCESSIBILITY_CHECKED_ON", "2026年12月7日")
    SQLALCHEMY_ECHO = False
    DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"
    UPLOAD_DIR = Path(os.environ.get("PORTAL_UPLOAD_DIR", INSTANCE_DIR / "uploads"))
    # Where uploads and generated documents are kept (docs/deployment.md):
    # empty for the local disk under UPLOAD_DIR; s3://bucket/optional-prefix
    # for an S3-compatible store shared by several servers. Without a key
    # pair, boto3's usual chain (AWS_* variables, ~/.aws, instance role).
    OBJECT_STORE_URL = os.environ.get("OBJECT_STORE_URL", "")
    OBJECT_STORE_ENDPOINT_URL = os.environ.get("OBJECT_STORE_ENDPOINT_URL") or None  # MinIO etc.; None for AWS
    OBJECT_STORE_REGION = os.environ.get("OBJECT_STORE_REGION") or None
    OBJECT_STORE_ACCESS_KEY_ID = os.environ.get("OBJECT_STORE_ACCESS_KEY_ID") or None
    OBJECT_STORE_SECRET_ACCESS_KEY = os.environ.get("OBJECT_STORE_SECRET_ACCESS_KEY") or None
    # The Ed25519 key that signs the process log; by default
    # <instance>/log-signing-key.pem, created on first use. Back it up.
    LOG_SIGNING_KEY_PATH = os.environ.get("LOG_SIGNING_KEY_PATH") or None

    # Uploads: per-file and per-proposal limits (bytes). MAX_CONTENT_LENGTH caps
    # a whole request so an oversized upload gets the friendly 413 page.
    UPLOAD_MAX_FILE_BYTES = int(os.environ.get("PORTAL_UPLOAD_MAX_FILE_BYTES", 10 * 1024 * 1024))
    UPLOAD_MAX_PROPOSAL_BYTES = int(os.environ.get("PORTAL_UPLOAD_MAX_PROPOSAL_BYTES", 30 * 1024 * 1024))
    UPLOAD_MAX_FILES_PER_PROPOSAL = 10
    MAX_CONTENT_LENGTH = UPLOAD_MAX_FILE_BYTES + 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024

    # Mail: real SMTP when MAIL_SERVER is set; otherwise messages stay in the
    # outbox table, readable at /dev/outbox in development.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 587))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "kyodo@example.jp")
    DEV_OUTBOX = False
    # Delivery by the job worker: tries, and the first retry's delay (then x4).
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", 8))
    MAIL_RETRY_BASE_SECONDS = int(os.environ.get("MAIL_RETRY_BASE_SECONDS", 30))

    # The job queue (portal/jobs): a SQLite file beside the database by
    # default (`make run` starts a worker with the web server); Redis when
    # several servers share the work, e.g. redis://127.0.0.1:6379/0.
    JOB_QUEUE_URL = os.environ.get("JOB_QUEUE_URL") or f"sqlite:///{INSTANCE_DIR / 'jobs.sqlite3'}"
    # Huey's name for the queue: servers that share the work share it.
    JOB_QUEUE_NAME = os.environ.get("JOB_QUEUE_NAME", "kyodo-portal")
    JOB_WORKERS = int(os.environ.get("JOB_WORKERS", 2))
    # The worker lowers its CPU priority by this much (0: not at all).
    JOB_WORKER_NICE = int(os.environ.get("JOB_WORKER_NICE", 10))
    # "idle": the worker runs only on CPU time that nothing else wants
    # (Linux's SCHED_IDLE), so rendering a large call's PDFs for minutes
    # does not slow an applicant's autosave; "normal": the nice value only.
    JOB_WORKER_CPU_POLICY = os.environ.get("JOB_WORKER_CPU_POLICY", "idle")
    # A running job whose worker has not written its heartbeat for this long
    # is taken to have died and is run again.
    JOB_STALL_SECONDS = int(os.environ.get("JOB_STALL_SECONDS", 90))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "portal_session"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 8
    LOGIN_SESSION_IDLE_SECONDS = 60 * 60 * 8
    WTF_CSRF_TIME_LIMIT = None  # a long proposal takes hours to write
    HSTS = False

    # Failed logins: a (account, address) pair and an address alone are
    # throttled; an account as a whole never is, so nobody can lock a real
    # user out from elsewhere.
    LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
    LOGIN_FAILURES_PER_ACCOUNT_AND_IP = 5
    LOGIN_FAILURES_PER_IP = 30

    # Staff and reviewers log in with a second factor (TOTP). Only the demo
    # and test configurations honour an account's "waived" flag.
    ALLOW_SECOND_FACTOR_WAIVER = False
    # The site's public address, for links printed outside a request
    # (flask create-user without --password-stdin prints an invitation link).
    PUBLIC_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://localhost:5000")

    # argon2id cost; tests lower it to stay fast.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024

    # The receipt PDF and other documents.
    PDF_FONT_FAMILY = "IPAexGothic, IPAexMincho, 'Noto Sans CJK JP', sans-serif"

    # Seconds a worker serves its rendered copy of an anonymous results page
    # without asking the database (results day: the press links the page).
    # A correction shows in every worker within this time; 0 turns it off.
    RESULTS_PAGE_CACHE_SECONDS = int(os.environ.get("PORTAL_RESULTS_PAGE_CACHE_SECONDS", 5))


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key")
    DEBUG = False
    DEV_OUTBOX = True
    ALLOW_SECOND_FACTOR_WAIVER = True


class TestingConfig(BaseConfig):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-key"
    DEV_OUTBOX = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = True
    ALLOW_SECOND_FACTOR_WAIVER = True
    RESULTS_PAGE_CACHE_SECONDS = 0  # tests see every change at once; the cache test turns it on
    # A task runs in the thread that enqueued it, right after the commit;
    # tests/test_job_queue.py runs real workers on SQLite and Redis queues.
    JOB_QUEUE_URL = os.environ.get("TEST_JOB_QUEUE_URL", "immediate")
    # Test workers share the cores with pytest's own processes, which would
    # keep an idle-class worker waiting; the policy has a test of its own.
    JOB_WORKER_CPU_POLICY = os.environ.get("JOB_WORKER_CPU_POLICY", "normal")


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS = True
    ALLOW_SECOND_FACTOR_WAIVER = False
    # No localhost default: published documents and mails carry this address,
    # and results are not published until PORTAL_BASE_URL is set.
    PUBLIC_BASE_URL = os.environ.get("PORTAL_BASE_URL", "")
    # Links in mails are built on PUBLIC_BASE_URL, never on the request's
    # Host header (portal/links.py).
    MAIL_LINKS_FROM_BASE_URL = True

    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY or len(cls.SECRET_KEY) < 32:
            raise RuntimeError("本番環境では32文字以上の SECRET_KEY を環境変数で設定してください。")
        if not cls.SESSION_COOKIE_SECURE:
            raise RuntimeError("本番環境では SESSION_COOKIE_SECURE を有効にしてください。")
        # Mails (password resets, invitations) and published documents carry
        # this address; without it a link would follow the request's Host
        # header, which a stranger can choose.
        if not re.fullmatch(r"https?://[^\s/?#]+(?:/[^\s?#]*)?", cls.PUBLIC_BASE_URL or ""):
            raise RuntimeError("本番環境では PORTAL_BASE_URL（公開するアドレス。例: https://kyodo.city.example.jp）"
                               "を環境変数で設定してください。")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
