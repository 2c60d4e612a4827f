"""The SSRF guard: a URL is fetched only when its host resolves to public addresses, or the outlet
registry allows the host (``allow_private``).

:func:`resolve_checked` returns the vetted address, and the client connects to that address (with the
host name kept for TLS and the Host header), so a second DNS answer cannot swap in an internal one.
Loopback, private, link-local, multicast and reserved addresses are not public; an IPv4 address mapped
into IPv6 is judged as the IPv4 address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from media_monitoring.net.results import FetchError


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve_checked(url: str, allow_private_hosts: Iterable[str] = ()) -> tuple[str, str]:
    """Check ``url`` against the SSRF policy and return ``(host, address to connect to)``.

    Raises:
        FetchError: ``bad_url`` for non-http(s) URLs, ``dns`` when the name does not resolve,
            ``blocked_address`` when it resolves to a non-public address the registry does not allow.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad_url", "only http(s) URLs with a host are fetched", url=url)
    host = parts.hostname.lower()
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError("dns", f"cannot resolve {host}: {exc}", url=url) from None
    addresses = [str(info[4][0]) for info in infos]  # an IP address as text (an int only for AF_CAN and the like)
    allowed = host in {h.lower() for h in allow_private_hosts}
    blocked = [a for a in addresses if not _is_public(a)]
    if blocked and not allowed:
        raise FetchError(
            "blocked_address",
            f"{host} resolves to non-public address {blocked[0]}; allow the host in the outlet "
            "registry (allow_private) if this is intended",
            url=url,
        )
    return host, addresses[0]
