"""Redis (the Celery broker) killed and restarted while jobs are queued and running:
no job is lost. A private append-only redis-server on its own port, so the test can
kill it without touching anyone else's Redis."""

import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_client

from coop.celery import app
from governance import jobs
from tests.proof.test_faults_celery import Worker

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PORT = 6390
BROKER = f"redis://127.0.0.1:{PORT}/0"
REDIS_SERVER = shutil.which("redis-server")


class Redis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(PORT), "--appendonly", "yes", "--appendfsync", "always",
             "--save", "", "--dir", str(self.directory)],
            stdout=(self.directory / "redis.log").open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis_client.Redis(port=PORT, socket_timeout=0.5).ping():
                    return
            except redis_client.ConnectionError:
                pass
            time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: a crash, not a clean shutdown
        self.process.wait(timeout=10)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = Redis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process and server.process.poll() is None:
            server.kill()


def _send(queue: str, count: int) -> list[str]:
    with app.connection_for_write(BROKER) as connection:
        return [jobs.open_due_votes.apply_async(queue=queue, connection=connection).id for _ in range(count)]


def _succeeded(log: Path) -> set[str]:
    return set(re.findall(r"open_due_votes\[([0-9a-f-]+)\] succeeded", log.read_text(errors="replace")))


def test_jobs_queued_across_a_redis_crash_and_restart_all_run(
    redis: Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("django.conf.settings.REDIS_URL", BROKER)
    queue = f"proof-{uuid.uuid4().hex[:8]}"
    # A job the worker had taken but not acknowledged when Redis died is delivered again
    # once older than the visibility timeout (an hour in production; seconds here).
    worker = Worker(
        queue,
        tmp_path / "worker.log",
        {
            "CELERY_VISIBILITY_TIMEOUT": "15",
            "CELERY_UNACKED_RESTORE_INTERVAL": "2",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        },
    )
    app.conf.task_always_eager = False
    try:
        worker.pool_process()
        sent = _send(queue, 300)
        deadline = time.monotonic() + 60
        while len(_succeeded(worker.log)) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert 20 <= len(_succeeded(worker.log)) < len(sent), "the crash must come while jobs are queued"

        redis.kill()
        time.sleep(1)
        redis.start()  # replays its append-only file: the queue is back
        sent += _send(queue, 50)

        deadline = time.monotonic() + 120
        while not set(sent) <= _succeeded(worker.log) and time.monotonic() < deadline:
            time.sleep(0.1)
        lost = set(sent) - _succeeded(worker.log)
        # kombu's Redis transport (kombu/transport/redis.py: ``_brpop_read`` then ``QoS.append``)
        # takes a message off the queue with BRPOP and records it as unacknowledged in a second
        # command; a crash between the two (or before BRPOP's reply reaches the worker) loses the
        # one message being taken at that instant, before the worker has received it. Every
        # platform job is a sweep of due rows that beat runs again, so such a job is recovered
        # by its next run. What must never happen: losing the queue, or losing a job the worker
        # had received (acks_late keeps it unacknowledged until it has run).
        log = worker.log.read_text(errors="replace")
        assert len(lost) <= 1, f"{len(lost)} of {len(sent)} jobs never ran:\n{log[-3000:]}"
        received = set(re.findall(r"open_due_votes\[([0-9a-f-]+)\] received", log))
        assert not lost & received, f"a job the worker had received was lost: {lost & received}\n{log[-3000:]}"
    finally:
        app.conf.task_always_eager = True
        worker.stop()
