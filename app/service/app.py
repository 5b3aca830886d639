"""The application factory and its routes."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from service.config import Settings
from service.logs import configure_logging
from service.proxy import TrustedProxy


def create_app(settings: Settings | None = None) -> Flask:
    """Creates the app. Settings come from the environment unless given."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.wsgi_app = TrustedProxy(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]
    started = time.time()

    @app.get("/")
    def index() -> Any:
        return jsonify(
            service=settings.name,
            version=settings.version,
            uptime_seconds=round(time.time() - started, 3),
        )

    def health() -> Any:
        # Cheap and dependency-free: the load balancer calls it every 10 seconds per target.
        return jsonify(status="ok", version=settings.version)

    # Served where the load balancer looks: HEALTH_CHECK_PATH, set from the configuration's healthCheckPath.
    app.add_url_rule(settings.health_path, "health", health, methods=["GET"])

    if settings.test_routes:

        @app.get("/_test/sleep")
        def sleep() -> Any:
            seconds = min(float(request.args.get("seconds", "1")), 30.0)
            time.sleep(seconds)
            return jsonify(slept=seconds)

        @app.get("/_test/request")
        def whoami() -> Any:
            # What the app believes about the request: the integration tests forge headers against it.
            return jsonify(
                remote_addr=request.remote_addr,
                scheme=request.scheme,
                url_root=request.url_root,
                path=request.path,
            )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        return jsonify(error=error.name, status=error.code), error.code or 500

    @app.errorhandler(Exception)
    def unhandled(error: Exception) -> Any:
        logging.getLogger("service").exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(error="Internal Server Error", status=500), 500

    return app
