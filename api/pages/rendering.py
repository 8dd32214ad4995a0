"""Jinja2 on GOV.UK Frontend's macros (govuk-frontend-jinja), with a strict CSP per page."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader

from projections.quality import rating

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
ASSETS = "/ui/assets/vendor"  # GOV.UK and MoJ Frontend, copied by `make assets`
SESSION_COOKIE = "casetrail_session"

_environment = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(HERE / "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    ),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.do"],
    auto_reload=False,  # templates change with a deploy, not under a running server
)
LONDON = ZoneInfo("Europe/London")


def when(moment: datetime | date | None) -> str:
    """A time as people in England and Wales read it: 6 Dec 2026, 14:05 (UK time)."""
    if moment is None:
        return "Not recorded"
    if isinstance(moment, datetime):
        local = moment.astimezone(LONDON) if moment.tzinfo else moment
        return f"{local.day} {local:%b %Y, %H:%M}"
    return f"{moment.day} {moment:%b %Y}"


def words(value: object) -> str:
    """An enum or snake_case name as a phrase: ``induction_overdue`` -> Induction overdue."""
    text = str(getattr(value, "value", value)).replace("_", " ")
    spaced = "".join(f" {c.lower()}" if c.isupper() and i else c for i, c in enumerate(text))
    return spaced.strip().capitalize()


def band(percent: float | None) -> str | None:
    """The 80/65/50 band of one key question's score (the standard takes its lowest)."""
    return rating([percent])


_environment.filters.update(when=when, words=words, band=band)
templates = Jinja2Templates(env=_environment)


def csp(nonce: str | None = None) -> str:
    """Nothing from another origin, no inline script or style but GOV.UK's nonced snippet."""
    script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return (
        "default-src 'none'; "
        f"script-src {script}; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; manifest-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render ``name`` with a fresh CSP nonce and the security headers."""
    nonce = secrets.token_urlsafe(18)
    response = templates.TemplateResponse(
        request,
        name,
        {"cspNonce": nonce, "assetPath": ASSETS, **context},
        status_code=status,
    )
    response.headers.update({**SECURITY_HEADERS, "Content-Security-Policy": csp(nonce)})
    return response


def see_other(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.headers.update({**SECURITY_HEADERS, "Content-Security-Policy": csp()})
    return response
