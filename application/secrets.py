"""Secrets from settings, or (outside production) generated once under var/ with mode 0600."""

from __future__ import annotations

import contextlib
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
        value = secrets.token_urlsafe(48)
        draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            _write_new(draft, value)
            os.link(draft, path)
        except FileExistsError:
            pass
        except OSError:  # a filesystem without hard links: create in place, first one wins
            with contextlib.suppress(FileExistsError):
                _write_new(path, value)
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text().strip()


def _write_new(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
