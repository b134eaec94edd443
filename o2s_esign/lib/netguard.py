"""Which URLs the module may call on a company's behalf (SMS gateways, timestamp authority).

The settings name URLs the server then calls (server-side request forgery): only ``https://``
to public addresses is allowed. Plain ``http://`` and loopback addresses are allowed only when
``allow_localhost`` is true (tests and the local demo), and then for loopback hosts only.
Private, link-local, shared, multicast, reserved and unspecified addresses are always refused.

``url_problem(url, allow_localhost=False, resolve=True)`` returns ``None`` when the URL may be
called, else a stable code: ``scheme`` (not https, or http to a non-loopback host), ``host``
(no host, user info in the URL, or a malformed host or port), ``address`` (a literal or resolved
address that is not public), ``resolve`` (the host name does not resolve; only when
``resolve``). Every resolved address is checked: a name with one private address is refused.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip):
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo client, NAT64), if any."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _address_allowed(address: str, allow_localhost: bool) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    if ip.is_loopback:
        return allow_localhost
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local
                                 or ip.is_unspecified or getattr(ip, "is_site_local", False))


def _resolve(host: str, port: int) -> list:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


def url_problem(url: str, *, allow_localhost: bool = False, resolve: bool = True,
                resolver=None) -> str | None:
    """``None`` if ``url`` may be called, else why not (see the module docstring).
    ``resolver(host, port)`` returns the host's addresses (default: the system's resolver)."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return "host"
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if scheme not in ("https", "http"):
        return "scheme"
    if not host or parts.username is not None or parts.password is not None:
        return "host"
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    loopback_name = host in LOOPBACK_NAMES or host.endswith(".localhost")
    if scheme == "http" and not (allow_localhost and (loopback_name or (literal and literal.is_loopback))):
        return "scheme"
    if literal is not None:
        return None if _address_allowed(host, allow_localhost) else "address"
    if loopback_name and not allow_localhost:
        return "address"
    if not resolve:
        return None
    try:
        addresses = (resolver or _resolve)(host, port or (443 if scheme == "https" else 80))
    except (OSError, UnicodeError):
        return "resolve"
    if not addresses:
        return "resolve"
    if not all(_address_allowed(address, allow_localhost) for address in addresses):
        return "address"
    return None
