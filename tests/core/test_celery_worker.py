"""A real Celery worker against Redis runs the platform's jobs (not eager mode)."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from coop.celery import app
from core.jobs import HEARTBEAT_KEY, heartbeat


@pytest.mark.redis
def test_a_real_worker_runs_a_job_from_redis() -> None:
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            result = heartbeat.apply_async(ignore_result=True)
            assert result.id
            for _ in range(100):
                if cache.get(HEARTBEAT_KEY):
                    break
                import time

                time.sleep(0.1)
    finally:
        app.conf.task_always_eager = True
    assert cache.get(HEARTBEAT_KEY) is not None
