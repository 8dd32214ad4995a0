"""Master keys: the current one wraps, the previous ones (during a rotation) only unwrap.

A master key (CASETRAIL_ENCRYPTION_KEY, base64 of 32 bytes) encrypts no data. HKDF derives
from it the key that wraps data keys, and a fingerprint that names it in the store (which
master wrapped which key) without revealing it. CASETRAIL_PREVIOUS_ENCRYPTION_KEYS holds the
masters being rotated away from.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.settings import Settings

KEY_BYTES = 32
NONCE_BYTES = 12


def subkey(master: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"casetrail {purpose}".encode()
    ).derive(master)


@dataclass(frozen=True)
class Master:
    """One master key, as the store names it (``fingerprint``) and uses it (``wrap``)."""

    key: bytes

    @property
    def fingerprint(self) -> str:
        return subkey(self.key, "master key id")[:8].hex()

    def wrap(self, key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead().encrypt(nonce, key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes | None:
        """The key, or None if this master did not wrap it."""
        try:
            return self._aead().decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
        except InvalidTag:
            return None

    def _aead(self) -> AESGCM:
        return AESGCM(subkey(self.key, "data key wrapping"))


@dataclass(frozen=True)
class Masters:
    """The current master and the previous ones, by fingerprint."""

    current: Master
    previous: tuple[Master, ...] = ()

    @property
    def all(self) -> tuple[Master, ...]:
        return (self.current, *self.previous)

    def by_fingerprint(self, fingerprint: str | None) -> Master | None:
        return next((m for m in self.all if m.fingerprint == fingerprint), None)

    def unwrap(self, wrapped: bytes, context: bytes, fingerprint: str | None) -> bytes | None:
        """Unwrap with the named master; an unnamed key (from before the names) with any."""
        if fingerprint is not None:
            master = self.by_fingerprint(fingerprint)
            return None if master is None else master.unwrap(wrapped, context)
        for master in self.all:
            key = master.unwrap(wrapped, context)
            if key is not None:
                return key
        return None


def masters(settings: Settings) -> Masters:
    """The configured masters; outside production, a current one created under var/ (0600)."""
    previous = [p.strip() for p in (settings.previous_encryption_keys or "").split(",")]
    return Masters(
        Master(master_key(settings)),
        tuple(
            Master(_decode(p, "CASETRAIL_PREVIOUS_ENCRYPTION_KEYS", settings))
            for p in previous
            if p
        ),
    )


def master_key(settings: Settings) -> bytes:
    """The configured master key; outside production, one created under var/ (mode 0600)."""
    encoded = settings.encryption_key
    if not encoded:
        if settings.env == "production":
            msg = "CASETRAIL_ENCRYPTION_KEY must be set in production (base64 of 32 bytes)"
            raise RuntimeError(msg)
        path = Path(settings.var_dir) / "encryption-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(os.urandom(KEY_BYTES)).decode())
        encoded = path.read_text().strip()
    return _decode(encoded, "CASETRAIL_ENCRYPTION_KEY", settings)


def _decode(encoded: str, setting: str, settings: Settings) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise RuntimeError(f"{setting} is not base64") from None
    if len(key) != KEY_BYTES:
        msg = f"{setting} must hold keys of {KEY_BYTES} bytes (one is {len(key)})"
        raise RuntimeError(msg)
    if settings.env == "production" and len(set(key)) < 8:
        raise RuntimeError(f"{setting} is too weak (too few distinct bytes)")
    return key
