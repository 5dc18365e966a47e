"""HTTP load on loopback against gunicorn: a mixed worker/requester workload, compared
with a trivial endpoint (/ping/) served by the same gunicorn in the same run. It uses
its own Redis database (``BENCH_REDIS_URL``, db 9), which it empties first.

A threaded load generator (http.client), bounded in time, talking only to 127.0.0.1.
The workload is read-heavy as the market is: workers page the feed and their account,
a quarter of the clients act as the requester watching its batches and balance.
"""

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parents[1]
# Two connections per gunicorn worker keep every worker busy (the server is saturated:
# more clients only wait in its queue, adding latency and no throughput).
CLIENTS = int(os.environ.get("BENCH_HTTP_CLIENTS", "8"))
DURATION = float(os.environ.get("BENCH_HTTP_SECONDS", "15"))
# Each gunicorn worker imports views, opens its connections and prepares its statements on
# its first requests: both workloads run unmeasured first, so neither figure includes that.
WARMUP = float(os.environ.get("BENCH_HTTP_WARMUP_SECONDS", "5"))
WORKERS = int(os.environ.get("BENCH_HTTP_GUNICORN_WORKERS", "4"))
ROUNDS = int(os.environ.get("BENCH_HTTP_ROUNDS", "5"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed() -> dict[str, Any]:
    """A funded organisation with a published batch, and workers with tokens."""
    from rest_framework.authtoken.models import Token

    from accounts import services as accounts_services
    from accounts.models import User, WorkerProfile
    from ledger.accounts import external_bank, org_available
    from ledger.services import transfer
    from tasks import services as task_services

    def user(name: str, staff: bool = False) -> User:
        person = User.objects.create_user(username=name, email=f"{name}@bench.example", password="x" * 20)
        person.is_staff = staff
        person.save(update_fields=["is_staff"])
        WorkerProfile.objects.create(user=person)
        return person

    staff = user("bench-staff", staff=True)
    requester = user("bench-requester")
    organisation = accounts_services.organisation_create(
        owner=requester, legal_name="Bench Ltd", display_name="Bench", country="DE", contact_email="b@bench.example"
    )
    accounts_services.organisation_verify(organisation=organisation, verified_by=staff, legal_name="Bench Ltd")
    transfer(
        transfer_id="bench:deposit",
        debit=external_bank(),
        credit=org_available(organisation),
        amount=100_000_000,
        code="deposit",
    )
    for number in range(20):
        batch = task_services.batch_create(
            organisation=organisation,
            actor=requester,
            title=f"Bench batch {number}",
            description="Label a sentence.",
            purpose="Benchmarking.",
            data_use="Discarded after the run.",
            reward=50,
            assignments_per_task=3,
            estimated_minutes=1,
            time_allotted_minutes=10,
            lifetime_hours=48,
            template_html='<p>${text}</p><input name="label" required>',
        )
        rows = "text\n" + "\n".join(f"sentence {i}" for i in range(50))
        task_services.batch_set_input(batch=batch, actor=requester, content=rows, file_format="csv")
        task_services.batch_publish(batch=batch, actor=requester)
    workers = [user(f"bench-worker-{i}") for i in range(CLIENTS)]
    return {
        "slug": organisation.slug,
        "requester_token": Token.objects.create(user=requester).key,
        "worker_tokens": [Token.objects.create(user=w).key for w in workers],
    }


def _load(port: int, plan: list[list[tuple[str, str]]], seconds: float) -> dict[str, Any]:
    """Each client thread loops over its (path, token) plan until time runs out."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(requests: list[tuple[str, str]]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        failed = 0
        index = 0
        while time.perf_counter() < deadline:
            path, token = requests[index % len(requests)]
            index += 1
            headers = {"Authorization": f"Token {token}"} if token else {}
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(requests,)) for requests in plan]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "errors": errors[0], "elapsed": time.perf_counter() - started}


def _summary(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests per second, latency percentiles and errors over the measured slices."""
    latencies = sorted(latency for part in parts for latency in part["latencies"])
    elapsed = sum(part["elapsed"] for part in parts)
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0,
        "errors": sum(part["errors"] for part in parts),
        "count": len(latencies),
    }


def run() -> list[dict[str, str]]:
    seed = _seed()
    port = _free_port()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    # The database is new, so the cache must be too: rate-limit counters are kept per user
    # id and hour, and the ids of this run's users are the last run's.
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}",
        # Production's rate limits (the run stays well under the per-user rate): every API
        # request is counted, as it is in production.
        "COOP_TESTING": "0",
        "DB_CONN_MAX_AGE": "60",
        "ALLOWED_HOSTS": "127.0.0.1",
        # Production's cache and broker: the throttles and rule cache live in Redis.
        "REDIS_URL": redis_url,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "coop.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/ping/")
                break
            except OSError:
                time.sleep(0.2)
        trivial_plan = [[("/ping/", "")] for _ in range(CLIENTS)]
        slug = seed["slug"]
        mixed_plan = []
        for number, token in enumerate(seed["worker_tokens"]):
            if number % 4 == 3:  # a quarter of the clients act as the requester
                requester = seed["requester_token"]
                mixed_plan.append(
                    [
                        (f"/api/organisations/{slug}/batches/", requester),
                        (f"/api/organisations/{slug}/balance/", requester),
                    ]
                )
            else:
                mixed_plan.append(
                    [("/api/tasks/feed/", token), ("/api/me/", token), ("/api/tasks/feed/?ordering=-reward", token)]
                )
        _load(port, mixed_plan, WARMUP)
        _load(port, trivial_plan, WARMUP)
        # The two workloads take turns in short slices, so both see the same machine: on a
        # shared host the speed drifts within a minute, and back-to-back runs of 15 s each
        # put that drift into the ratio.
        trivial_parts, mixed_parts = [], []
        for _ in range(ROUNDS):
            trivial_parts.append(_load(port, trivial_plan, DURATION / ROUNDS))
            mixed_parts.append(_load(port, mixed_plan, DURATION / ROUNDS))
        trivial, mixed = _summary(trivial_parts), _summary(mixed_parts)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ratio = mixed["rps"] / trivial["rps"] if trivial["rps"] else 0.0
    return [
        {
            "what": f"HTTP mixed worker/requester load ({CLIENTS} clients, gunicorn x{WORKERS}): requests/s",
            "figure": f"{mixed['rps']:.0f} req/s ({mixed['count']} requests)",
            "reference": f"{trivial['rps']:.0f} req/s on /ping/",
            "ratio": f"{ratio:.2f}",
            "goal": ">= 0.33 of the trivial endpoint",
        },
        {
            "what": "HTTP mixed load: latency p50 / p99",
            "figure": f"{mixed['p50']:.1f} ms / {mixed['p99']:.1f} ms",
            "reference": f"{trivial['p50']:.1f} ms / {trivial['p99']:.1f} ms on /ping/",
            "ratio": f"{mixed['p99'] / trivial['p99']:.1f}" if trivial["p99"] else "-",
            "goal": "p99 < 100 ms",
        },
        {
            "what": "HTTP mixed load: errors",
            "figure": str(mixed["errors"]),
            "reference": str(trivial["errors"]),
            "ratio": "-",
            "goal": "0",
        },
    ]
