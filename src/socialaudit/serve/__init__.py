"""The present stage for teams: the REST API and the dashboard behind ``socialaudit serve``."""

from socialaudit.serve.app import create_app

__all__ = ["create_app"]
