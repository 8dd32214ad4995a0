"""The SSRF guard of webhooks: https only, and never to a private, loopback or link-local
address, except for hosts an operator lists (CASETRAIL_WEBHOOK_ALLOWED_HOSTS).

A URL is checked when the subscription is made, and the address is checked again on every
connection: the HTTP client's network backend resolves the host itself, refuses a forbidden
address and connects to the address it checked, so a name that resolves elsewhere later
(DNS rebinding) cannot slip past. TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookUrlError(ValueError):
    """A webhook URL the guard refuses."""


def refused(address: Address) -> bool:
    """Private, loopback, link-local and other non-public addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def check_url(url: str, allowed_hosts: frozenset[str]) -> None:
    """Refuse a URL the relay must not call (raises WebhookUrlError with the reason)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise WebhookUrlError("not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise WebhookUrlError("a webhook URL is an absolute http(s) URL")
    if parts.username or parts.password:
        raise WebhookUrlError("a webhook URL carries no credentials")
    if host in allowed_hosts:
        return
    if parts.scheme != "https":
        raise WebhookUrlError(f"{host} is not in CASETRAIL_WEBHOOK_ALLOWED_HOSTS: use https")
    try:
        addresses = resolve(host, port or 443)
    except (OSError, UnicodeError):
        return  # not resolvable now: the address is checked again at every delivery
    bad = [str(a) for a in addresses if refused(a)]
    if bad:
        raise WebhookUrlError(f"{host} resolves to a private or local address ({bad[0]})")


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses the guard allows, and to the very address it checked."""

    def __init__(self, allowed_hosts: frozenset[str]) -> None:
        self.allowed_hosts = allowed_hosts

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if host.lower() in self.allowed_hosts:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        bad = [a for a in addresses if refused(a)]
        if bad or not addresses:
            raise httpcore.ConnectError(f"{host} resolves to a refused address ({bad[0]})")
        return super().connect_tcp(str(addresses[0]), port, timeout, local_address, socket_options)


def guarded_client(allowed_hosts: frozenset[str], timeout: float) -> httpx.Client:
    """An httpx client whose every connection passes the guard; redirects are not followed."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=ssl.create_default_context(),
        max_connections=20,
        max_keepalive_connections=10,
        keepalive_expiry=30.0,
        network_backend=GuardedBackend(allowed_hosts),
    )
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
    )
