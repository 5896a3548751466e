"""The city's Ed25519 key that signs the head of every call's process log.

The private key lives with the app instance (``instance/log-signing-key.pem``,
mode 0600; ``LOG_SIGNING_KEY_PATH`` moves it), created on first use by
``chain.load_or_create_key``. The public key and its fingerprint are printed
in the results, on the log page and in the PDFs, so a citizen can compare
them with what the city publishes elsewhere (docs/log-format.md, section 4).

Everything here takes the configuration explicitly; ``current_key`` is the
one convenience for code that runs inside the app (routes, CLI).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import chain

DEFAULT_FILE_NAME = "log-signing-key.pem"

_cache: dict[Path, Ed25519PrivateKey] = {}
_lock = threading.Lock()


def key_path(config: Mapping, instance_path: str | os.PathLike) -> Path:
    configured = config.get("LOG_SIGNING_KEY_PATH")
    return Path(configured) if configured else Path(instance_path) / DEFAULT_FILE_NAME


def load_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """The key at ``path`` (created when missing), read once per process."""
    path = Path(path)
    with _lock:
        key = _cache.get(path)
        if key is None or not path.exists():
            key = chain.load_or_create_key(path)
            _cache[path] = key
        return key


def key_for_app(app) -> Ed25519PrivateKey:
    return load_key(key_path(app.config, app.instance_path))


def current_key() -> Ed25519PrivateKey:
    """The signing key of the running app. Imported lazily so the domain
    modules stay usable (and testable) without Flask."""
    from flask import current_app

    return key_for_app(current_app)


def public_key_pem(key: Ed25519PrivateKey | None = None) -> str:
    return chain.public_key_pem(key or current_key())


def fingerprint(key: Ed25519PrivateKey | None = None) -> str:
    return chain.key_fingerprint(public_key_pem(key))


def spaced_fingerprint(fingerprint_hex: str) -> str:
    """The fingerprint in groups of four, easier to compare on paper."""
    return " ".join(fingerprint_hex[i:i + 4] for i in range(0, len(fingerprint_hex), 4))
