"""Routes and settings."""

from __future__ import annotations

import pytest

from service import create_app
from service.config import Settings


def test_index_reports_the_running_version(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    body = response.get_json()
    assert body["service"] == "demo"
    assert body["version"] == "3f2c1a9"
    assert body["uptime_seconds"] >= 0


def test_health_answers_ok(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "version": "3f2c1a9"}


def test_health_is_served_at_the_configured_path() -> None:
    settings = Settings.from_env({"APP_VERSION": "3f2c1a9", "HEALTH_CHECK_PATH": "/_ops/ready"})
    client = create_app(settings).test_client()
    assert client.get("/_ops/ready").get_json() == {"status": "ok", "version": "3f2c1a9"}
    assert client.get("/health").status_code == 404


def test_health_path_defaults_to_health() -> None:
    assert Settings.from_env({}).health_path == "/health"


def test_fails_when_the_health_path_is_not_absolute() -> None:
    with pytest.raises(ValueError, match="HEALTH_CHECK_PATH: 'ready' is not an absolute URL path"):
        Settings.from_env({"HEALTH_CHECK_PATH": "ready"})


def test_unknown_path_is_a_json_404(client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Not Found", "status": 404}


def test_wrong_method_is_a_json_405(client) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert response.get_json()["status"] == 405


def test_test_routes_are_off_by_default(client) -> None:
    assert client.get("/_test/sleep?seconds=0").status_code == 404


def test_test_routes_can_be_turned_on() -> None:
    app = create_app(Settings(test_routes=True))
    assert app.test_client().get("/_test/sleep?seconds=0").get_json() == {"slept": 0.0}


def test_an_unhandled_error_is_a_json_500() -> None:
    app = create_app(Settings())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": "Internal Server Error", "status": 500}


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"APP_NAME": "shop", "APP_VERSION": "abc1234", "PORT": "9000", "LOG_LEVEL": "debug", "APP_TEST_ROUTES": "1"}
    )
    assert settings == Settings(name="shop", version="abc1234", port=9000, log_level="DEBUG", test_routes=True)


def test_port_defaults_to_8080() -> None:
    assert Settings.from_env({}).port == 8080
