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
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
