"""Where the bytes of uploads and generated documents live: the local disk
(the embedded default) or an S3-compatible object store, behind one small
interface, so that several servers can share them.

Objects have generated names only (32 hex digits, ``uuid4().hex``); a name
a user typed never reaches a store, and any other name is a ``ValueError``
before the disk or the network is touched. A store knows nothing of
transactions: ``storage.py`` decides when an object is written or removed.

``OBJECT_STORE_URL`` chooses (``store_from_config``): empty for
``LocalStore(UPLOAD_DIR)``, ``s3://bucket/optional-prefix`` for ``S3Store``.
No Flask here but ``current_store``.
"""
from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

_NAME_RE = re.compile(r"[0-9a-f]{32}")  # whole names only (fullmatch): "$" would let a newline through


class StoreUnavailable(OSError):
    """The object store could not be reached or refused the request."""


def new_name() -> str:
    return uuid.uuid4().hex


def check_name(name: str) -> str:
    """``name`` if it is a generated name; a ``ValueError`` otherwise."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError("not a generated storage name")
    return name


class ObjectStore(Protocol):
    def put(self, name: str, data: bytes) -> None:
        """Store ``data`` under ``name`` (whole or not at all)."""

    def get(self, name: str) -> bytes | None:
        """The bytes under ``name``, or None when there is no such object."""

    def delete(self, name: str) -> None:
        """Remove ``name``; nothing happens when it is not there."""

    def exists(self, name: str) -> bool: ...

    def names(self) -> Iterator[str]:
        """Every stored name (for checks and clean-ups, not for requests)."""


class LocalStore:
    """Objects as files in ``root/files/<name>``, the layout of every
    instance so far. A write goes to a temporary file, is synced and then
    renamed, so a reader sees the whole file or none."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.directory = self.root / "files"

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def path(self, name: str) -> Path:
        return self.directory / check_name(name)

    def put(self, name: str, data: bytes) -> None:
        path = self.path(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{name}.{uuid.uuid4().hex[:8]}.part")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def get(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def names(self) -> Iterator[str]:
        if self.directory.is_dir():
            for entry in sorted(self.directory.iterdir()):
                if _NAME_RE.fullmatch(entry.name) and entry.is_file():
                    yield entry.name


class S3Store:
    """Objects in an S3-compatible bucket (AWS, MinIO, ...) under
    ``prefix``. One boto3 client per store, shared by every thread (boto3
    clients are thread-safe; sessions are not, so one is used only to make
    it) and made on first use, so that a server forking its workers after
    loading the app gives each worker connections of its own. Credentials
    are the given key pair, or else the standard AWS chain (environment,
    ~/.aws, instance role)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None, prefix: str = "",
                 connect_timeout: float = 5, read_timeout: float = 60, max_attempts: int = 3):
        if not bucket:
            raise ValueError("S3Store needs a bucket")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._options = {"endpoint_url": endpoint_url or None, "region": region or None,
                         "access_key_id": access_key_id or None, "secret_access_key": secret_access_key or None,
                         "connect_timeout": connect_timeout, "read_timeout": read_timeout,
                         "max_attempts": max_attempts}
        self._client = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        endpoint = self._options["endpoint_url"] or "AWS"
        return f"S3Store('s3://{self.bucket}/{self.prefix}', endpoint={endpoint!r})"

    @property
    def client(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self):
        import boto3  # here: a quarter of a second, which the local default need not pay
        from botocore.config import Config

        options = self._options
        config = Config(
            connect_timeout=options["connect_timeout"], read_timeout=options["read_timeout"],
            retries={"max_attempts": options["max_attempts"], "mode": "standard"},
            max_pool_connections=32,
            # A custom endpoint (MinIO, a local server) rarely has a DNS name per bucket.
            s3={"addressing_style": "path"} if options["endpoint_url"] else {},
        )
        session = boto3.session.Session(aws_access_key_id=options["access_key_id"],
                                        aws_secret_access_key=options["secret_access_key"],
                                        region_name=options["region"])
        return session.client("s3", endpoint_url=options["endpoint_url"], config=config)

    def key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def put(self, name: str, data: bytes) -> None:
        key = self.key(name)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except (BotoCoreError, ClientError) as error:
            raise _unavailable("put", name, error) from error

    def get(self, name: str) -> bytes | None:
        key = self.key(name)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as error:
            if _missing(error):
                return None
            raise _unavailable("get", name, error) from error

    def delete(self, name: str) -> None:
        key = self.key(name)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as error:
            raise _unavailable("delete", name, error) from error

    def exists(self, name: str) -> bool:
        key = self.key(name)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as error:
            if _missing(error):
                return False
            raise _unavailable("exists", name, error) from error
        return True

    def names(self) -> Iterator[str]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(self.prefix):]
                    if _NAME_RE.fullmatch(name):
                        yield name
        except (BotoCoreError, ClientError) as error:
            raise _unavailable("list", "", error) from error


def _missing(error: Exception) -> bool:
    """A 404 (GET answers NoSuchKey; HEAD has no body, so only the status)."""
    return isinstance(error, ClientError) and \
        str(error.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404", "NotFound")


def _unavailable(action: str, name: str, error: Exception) -> StoreUnavailable:
    code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else type(error).__name__
    return StoreUnavailable(f"object store: {action} {name} failed ({code})")


def store_from_config(config) -> ObjectStore:
    """The store ``config`` (a mapping: Flask's ``app.config``) names."""
    url = (config.get("OBJECT_STORE_URL") or "").strip()
    if not url:
        return LocalStore(config["UPLOAD_DIR"])
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise RuntimeError(f"OBJECT_STORE_URL={url!r} は使えません。空（ローカルのディスク）か s3://バケット名/接頭辞 の形で指定してください。")
    return S3Store(parts.netloc, prefix=parts.path, endpoint_url=config.get("OBJECT_STORE_ENDPOINT_URL"),
                   region=config.get("OBJECT_STORE_REGION"),
                   access_key_id=config.get("OBJECT_STORE_ACCESS_KEY_ID"),
                   secret_access_key=config.get("OBJECT_STORE_SECRET_ACCESS_KEY"))


def store_of(app) -> ObjectStore:
    return app.extensions["object_store"]


def current_store() -> ObjectStore:
    """The store of the app handling the current request or command."""
    from flask import current_app  # here only: the rest of this module is used without Flask

    return store_of(current_app)
