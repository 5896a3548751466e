"""The city's Ed25519 key that signs the head of every call's process log,
and the signature itself.

The private key lives with the app instance (``instance/log-signing-key.pem``,
mode 0600; ``LOG_SIGNING_KEY_PATH`` moves it), created on first use. The
public key and its fingerprint are printed in the results, on the log page
and in the PDFs, so a citizen can compare them with what the city publishes
elsewhere (docs/log-format.md, section 4).

Everything here takes the configuration or the key explicitly: the app
(routes, CLI) passes its own with ``key_for_app``.
"""
from __future__ import annotations

import base64
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .chain import HEAD_PURPOSE, canonical_json, sha256_hex

DEFAULT_FILE_NAME = "log-signing-key.pem"

_cache: dict[Path, Ed25519PrivateKey] = {}
_lock = threading.Lock()


# -- the head signature -------------------------------------------------------

def head_message(head_hash: str, seq: int) -> bytes:
    return canonical_json({"purpose": HEAD_PURPOSE, "seq": seq, "hash": head_hash})


def sign_head(private_key: Ed25519PrivateKey, head_hash: str, seq: int) -> str:
    return base64.b64encode(private_key.sign(head_message(head_hash, seq))).decode("ascii")


def verify_head_signature(public_key_pem: str | bytes, head_hash: str, seq: int,
                          signature: str) -> bool:
    try:
        pem = public_key_pem.encode("ascii") if isinstance(public_key_pem, str) else bytes(public_key_pem)
        key = serialization.load_pem_public_key(pem)
        if not isinstance(key, Ed25519PublicKey):
            return False
        key.verify(base64.b64decode(signature, validate=True), head_message(head_hash, seq))
    except (InvalidSignature, ValueError, TypeError, UnicodeError):
        return False
    return True


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_fingerprint(public_pem: str) -> str:
    """SHA-256 of the DER public key: the short form a city prints on paper."""
    key = serialization.load_pem_public_key(public_pem.encode("ascii"))
    return sha256_hex(key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def load_or_create_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """Load the signing key, creating it (PEM, mode 0600) when missing.

    Creation is race-safe across workers: the key is written to a private
    temporary file and hard-linked into place, so a reader never sees half a
    key and two workers never end up with two keys.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.fsync(fd)
            os.close(fd)
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another worker won; use its key
        finally:
            os.unlink(temporary)
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"{path} is readable by others; chmod 600 it")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key

def spaced_fingerprint(fingerprint_hex: str) -> str:
    """The fingerprint in groups of four, easier to compare on paper."""
    return " ".join(fingerprint_hex[i:i + 4] for i in range(0, len(fingerprint_hex), 4))


# -- the app's key --------------------------------------------------------------

def key_path(config: Mapping, instance_path: str | os.PathLike) -> Path:
    configured = config.get("LOG_SIGNING_KEY_PATH")
    return Path(configured) if configured else Path(instance_path) / DEFAULT_FILE_NAME


def load_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """The key at ``path`` (created when missing), read once per process."""
    path = Path(path)
    with _lock:
        key = _cache.get(path)
        if key is None or not path.exists():
            key = load_or_create_key(path)
            _cache[path] = key
        return key


def key_for_app(app) -> Ed25519PrivateKey:
    """The signing key of an app, from its configuration and instance path."""
    return load_key(key_path(app.config, app.instance_path))
