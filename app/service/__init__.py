"""The bundled web service: a small Flask app built by an application factory."""

from service.app import create_app

__all__ = ["create_app"]
