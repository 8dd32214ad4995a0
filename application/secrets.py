"""Secrets from settings, or (outside production) generated once under var/ with mode 0600."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from application.settings import Settings


def resolve_secret(settings: Settings, configured: str | None, name: str, setting: str) -> str:
    """``configured`` if set; in production its absence is fatal; else a file under var/."""
    if configured:
        return configured
    if settings.env == "production":
        msg = f"{setting} must be set in production"
        raise RuntimeError(msg)
    path = Path(settings.var_dir) / name
    if not path.exists():
        # Written whole under a name of its own, then linked into place: of processes starting
        # together (API workers), the first link wins and none reads a half-written file.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
