"""The outbound-request guard: URLs the server is asked to call (webhooks, NGSI-LD
notification endpoints) may not reach internal addresses unless the operator allows them.

Without it, anyone allowed to create a subscription or a webhook could make the server call
its own admin ports, the database or the cloud metadata service (server-side request forgery).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class OutboundRefused(ValueError):
    """The URL may not be called: not http(s), unresolvable, or an internal address."""


def resolve(host: str, port: int) -> list[str]:
    """Return the addresses a host name resolves to (empty if it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def allowed(host: str, addresses: list[str], allowlist: list[str]) -> bool:
    """Say whether every address is public, or the host or its networks are allowlisted."""
    if host.lower() in {a.lower() for a in allowlist}:
        return True
    networks = []
    for entry in allowlist:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    for addr in addresses:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
        if ip.is_global and not ip.is_multicast:
            continue
        if not any(ip in net for net in networks):
            return False
    return True


def check_url(url: str, allowlist: list[str], *, must_resolve: bool, setting: str) -> None:
    """Refuse a URL whose host is internal (loopback, private, link-local...) unless the
    host or its network is in `allowlist` (the operator's setting named `setting`)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise OutboundRefused(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    try:  # a literal address needs no lookup (and must be judged even if nothing answers)
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host, port)
    if not addresses and must_resolve:
        raise OutboundRefused(f"the host {host} does not resolve")
    if not allowed(host, addresses, allowlist):
        raise OutboundRefused(
            f"the host {host} is an internal address ({', '.join(addresses)}); "
            f"add it to {setting} to allow it"
        )
