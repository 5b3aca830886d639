"""Settings, read once from environment variables (the task definition sets them)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from service.proxy import DEFAULT_TRUSTED, Network, parse_networks


@dataclass(frozen=True)
class Settings:
    """What the app needs to know about where it runs."""

    name: str = "fargate-app"
    version: str = "dev"
    port: int = 8080
    # The path the load balancer and the container health check call: the task definition sets HEALTH_CHECK_PATH from
    # the same configuration field (healthCheckPath) as the target group's health check, so the two cannot disagree.
    health_path: str = "/health"
    log_level: str = "INFO"
    test_routes: bool = False
    # Peers whose X-Forwarded-For/-Proto are believed: the VPC's CIDR behind the ALB (see service/proxy.py).
    trusted_proxies: tuple[Network, ...] = parse_networks(DEFAULT_TRUSTED)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Builds settings from `env` (default: `os.environ`). Unset variables keep their defaults."""
        env = os.environ if env is None else env
        return cls(
            name=env.get("APP_NAME", cls.name),
            version=env.get("APP_VERSION", cls.version),
            port=int(env.get("PORT", str(cls.port))),
            health_path=health_path(env.get("HEALTH_CHECK_PATH", cls.health_path)),
            log_level=env.get("LOG_LEVEL", cls.log_level).upper(),
            # Only the integration tests turn this on; the task definition never sets it.
            test_routes=env.get("APP_TEST_ROUTES", "") == "1",
            # Not gunicorn's FORWARDED_ALLOW_IPS: gunicorn 23.x refuses to start on a CIDR there (service/proxy.py).
            trusted_proxies=parse_networks(env.get("TRUSTED_PROXY_CIDRS", DEFAULT_TRUSTED)),
        )


def health_path(value: str) -> str:
    """Returns `value` if it is an absolute URL path, else raises ValueError (the app then refuses to start)."""
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise ValueError(f"HEALTH_CHECK_PATH: {value!r} is not an absolute URL path such as '/health'")
    return value
