"""Forged X-Forwarded-* and SCRIPT_NAME headers through the app's WSGI stack (real gunicorn: test_gunicorn.py)."""

from __future__ import annotations

import pytest

from service import create_app
from service.config import Settings
from service.proxy import parse_networks

ALB_NODE = "10.10.1.17"  # a load balancer node inside the dev VPC
OUTSIDER = "192.0.2.50"  # a peer outside the VPC that reached the task directly
FORGED = {"X-Forwarded-For": "198.51.100.66", "X-Forwarded-Proto": "https"}


@pytest.fixture()
def whoami():
    app = create_app(Settings(test_routes=True, trusted_proxies=parse_networks("10.10.0.0/16")))
    client = app.test_client()

    def call(peer: str, headers: dict[str, str], path: str = "/_test/request", **environ: str) -> dict:
        response = client.get(path, headers=headers, environ_overrides={"REMOTE_ADDR": peer, **environ})
        assert response.status_code == 200
        return response.get_json()

    return call


def test_forged_forwarding_headers_from_outside_the_vpc_change_nothing(whoami) -> None:
    assert whoami(OUTSIDER, FORGED) == whoami(OUTSIDER, {})
    assert whoami(OUTSIDER, FORGED)["remote_addr"] == OUTSIDER
    assert whoami(OUTSIDER, FORGED)["scheme"] == "http"


def test_the_alb_appended_address_is_the_client(whoami) -> None:
    # The client forged the first entry; the ALB appended the address it saw, and only that one is believed.
    seen = whoami(ALB_NODE, {"X-Forwarded-For": "198.51.100.66, 203.0.113.9", "X-Forwarded-Proto": "https"})
    assert seen["remote_addr"] == "203.0.113.9"
    assert seen["scheme"] == "https"
    assert seen["url_root"] == "https://localhost/"


def test_a_forged_script_name_never_moves_the_app(whoami) -> None:
    # What gunicorn 20.1 makes of a `SCRIPT_NAME: /_test` header on GET /_test/request (gunicorn/http/wsgi.py).
    for peer in (OUTSIDER, ALB_NODE):
        seen = whoami(peer, {"SCRIPT_NAME": "/_test"}, path="/request", SCRIPT_NAME="/_test", RAW_URI="/_test/request")
        assert seen["url_root"] == "http://localhost/"
        assert seen["path"] == "/_test/request"


def test_a_forged_path_info_header_never_moves_the_app(whoami) -> None:
    # gunicorn 22+ takes a PATH_INFO header from forwarded_allow_ips peers (forwarder_headers); the path is the URI's.
    seen = whoami(ALB_NODE, {"PATH_INFO": "/health"}, path="/health", RAW_URI="/_test/request")
    assert seen["path"] == "/_test/request"


def test_trusted_proxy_cidrs_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"TRUSTED_PROXY_CIDRS": "10.20.0.0/16, 10.30.0.0/16"})
    assert [str(n) for n in settings.trusted_proxies] == ["10.20.0.0/16", "10.30.0.0/16"]


def test_by_default_only_loopback_is_trusted_like_gunicorn() -> None:
    assert [str(n) for n in Settings.from_env({}).trusted_proxies] == ["127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*", "TRUSTED_PROXY_CIDRS: '*' trusts X-Forwarded-For from every peer"),
        ("10.10.0.0/33", "TRUSTED_PROXY_CIDRS: '10.10.0.0/33' is not an IP address or CIDR network"),
        ("10.10.0.1/16", "TRUSTED_PROXY_CIDRS: '10.10.0.1/16' is not an IP address or CIDR network (10.10.0.1/16 has"),
        (" , ", "TRUSTED_PROXY_CIDRS: ' , ' names no network"),
    ],
)
def test_fails_when_trusted_proxy_cidrs_is_not_a_list_of_networks(value: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        Settings.from_env({"TRUSTED_PROXY_CIDRS": value})
    assert str(error.value).startswith(message)
