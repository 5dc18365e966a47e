"""The project core: settings, URLs and the Celery app."""

from coop.celery import app as celery_app

__all__ = ["celery_app"]
