"""Who sent the request: trust exactly one proxy hop (the load balancer), and only from the VPC.

Behind the ALB, the TCP peer (REMOTE_ADDR) is a load balancer node, and the client's address is the last entry of
X-Forwarded-For, which the ALB appends to whatever the client sent. So:

- a peer inside the trusted networks (TRUSTED_PROXY_CIDRS: the VPC CIDR) is the ALB: Werkzeug's ProxyFix takes
  exactly one hop of X-Forwarded-For (the entry the ALB appended) and X-Forwarded-Proto;
- any other peer sent its X-Forwarded-* headers itself: they change nothing.

The gate is here, in the app, and gunicorn's own `forwarded_allow_ips` trusts nobody (gunicorn.conf.py), because
gunicorn accepts CIDR networks there only from 24.1.0 (https://github.com/benoitc/gunicorn/pull/3449, "CIDR Network
Support" in the 24.1.0 release notes). Before that, 20.1 (Debian 12) compares the peer with each entry as a string,
so a CIDR trusts nobody, and the 23.x line, which includes the pinned 23.0.0, validates each entry with
`ipaddress.ip_address()` (gunicorn/config.py, `validate_string_to_addr_list`; 24.1.1 moved it to `ip_network`,
https://github.com/benoitc/gunicorn/pull/3459): a CIDR in FORWARDED_ALLOW_IPS stops gunicorn at start-up. So the
networks come from TRUSTED_PROXY_CIDRS, which gunicorn does not read, and the app answers the same on every version.

SCRIPT_NAME never comes from a request header. Gunicorn 20.1 copies a `SCRIPT_NAME:` header into the environ
unconditionally (gunicorn/http/wsgi.py, `elif hdr_name == "SCRIPT_NAME"`); 22.0+ takes it only from
`forwarded_allow_ips` peers (23.0.0 release notes, https://github.com/benoitc/gunicorn/pull/3192). The ALB never
sends it and this app is served at the root, so the app restores the path the client asked for.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import unquote_to_bytes, urlsplit

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

# Loopback, as gunicorn's own default for forwarded_allow_ips: local runs behind a local proxy keep working.
DEFAULT_TRUSTED = "127.0.0.1,::1"


def parse_networks(value: str, name: str = "TRUSTED_PROXY_CIDRS") -> tuple[Network, ...]:
    """Parses a comma-separated list of addresses and CIDR networks. Raises ValueError naming the bad entry."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        if entry == "*":
            raise ValueError(
                f"{name}: '*' trusts X-Forwarded-For from every peer, so any client can forge its address; "
                "set the VPC's CIDR (for example 10.10.0.0/16)"
            )
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError as error:
            raise ValueError(
                f"{name}: {entry!r} is not an IP address or CIDR network ({error}); "
                "use a comma-separated list such as 10.10.0.0/16"
            ) from None
    if not networks:
        raise ValueError(f"{name}: {value!r} names no network; set the VPC's CIDR (for example 10.10.0.0/16)")
    return tuple(networks)


def _is_trusted(address: str | None, networks: Sequence[Network]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False  # a unix socket peer or garbage: not the load balancer
    return any(ip in network for network in networks)


def _requested_path(environ: dict) -> str:
    """PATH_INFO as the client asked for it, from gunicorn's RAW_URI, decoded the way WSGI wants (latin-1)."""
    raw = environ.get("RAW_URI")
    if not raw:
        return environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    path = raw.split("?", 1)[0].split("#", 1)[0] if raw.startswith("/") else urlsplit(raw).path
    return unquote_to_bytes(path).decode("latin-1")


class TrustedProxy:
    """WSGI middleware: ProxyFix (one hop, X-Forwarded-For and -Proto) for peers inside `networks`, else nothing."""

    def __init__(self, app: WsgiApp, networks: Sequence[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)
        # Host is passed through by the ALB unchanged, so X-Forwarded-Host/-Port/-Prefix are never trusted.
        self.proxied = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        # gunicorn 22+ also takes a PATH_INFO header from forwarded_allow_ips peers (its forwarder_headers setting).
        if environ.get("SCRIPT_NAME") or "HTTP_SCRIPT_NAME" in environ or "HTTP_PATH_INFO" in environ:
            environ["PATH_INFO"] = _requested_path(environ)
            environ["SCRIPT_NAME"] = ""
        if _is_trusted(environ.get("REMOTE_ADDR"), self.networks):
            return self.proxied(environ, start_response)
        return self.app(environ, start_response)
