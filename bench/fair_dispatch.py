"""Fair dispatch (issue 26) over HTTP against gunicorn with production settings on
PostgreSQL and Redis: a fresh batch opened in waves, rushed by simulated workers spread
over 24 time-zone buckets, against a first-come-first-served baseline in the same run.

- **Rush**: every wave's application window is rushed by the workers awake then
  (``POST /api/tasks/feed/<id>/apply/``); scripted clients also hammer
  ``/accept/`` during the waves (refused, 409). Each wave is drawn by the beat job's own
  function. After the period, everyone left rushes ``/accept/`` for what remains. Checked
  afterwards: no slot given twice, none lost, no 5xx; p99 latency of apply and accept;
  and, from inside the server (gunicorn hooks, ``bench/_request_costs.py``), each
  request's CPU time in its worker, which does not depend on how busy the machine is, and
  its service time, which leaves out the wait for a free worker.
- **Spread**: per time-zone bucket, its share of the slots over its share of the active
  workers (those who asked at least once), for the waves batch and for a baseline batch
  of the same size opened all at once (first come, first served) to the workers awake at
  its publication, as a rush does today. The platform sizes each wave by the activity it
  measured in that hour over the 7 days before publication (``tasks.activity``), so the run
  first gives it a week of history: on each of the 7 days each worker is drawn active in
  each hour with the same chance as in the rush (``ACTIVITY`` at their local hour), and the
  hours drawn are written as the rows ``worker_activity_record`` writes for such visits
  (one row a worker a day, a bit an hour; written in bulk rather than by replaying a week
  of page views). The platform reads only those rows, never ``ACTIVITY`` or ``POPULATION``.
  Each worker has the time zone of their bucket in their settings (the zone a worker chooses
  at registration), which is all the draw stratified by time zone reads of the bucket.
  A second Spread row removes the lottery's luck: each drawn wave's slots shared among its
  applicants in proportion to their lottery weights (the draw's expectation), for the waves
  as sized and for equal waves on the same applicants. A bucket of 2% of the workers holds
  about 20 of 1,000 slots, so under the unstratified lottery (draw formula 1) chance alone
  moved its realised ratio by about ±0.22 (one standard deviation); the draw stratified by
  time zone (formula 2, the founding rule) shares each wave's slots among the zones first,
  so only rounding is left. The Spread row names the formula the waves were drawn with.

Time is simulated: between waves the batch's timeline (waves, publication, period, cap,
expiry) is moved back in the database, so the server sees the next window open now. The
baseline batch needs a rule value above the founding all-at-once limit: the run appends
it as a rule version in its own database (the bench database is thrown away).
Scale: ``BENCH_DISPATCH_WORKERS`` (5,000) and ``BENCH_DISPATCH_SLOTS`` (1,000).

The load, two ways (the table row says which was run):

- **Stress** (the default): ``BENCH_DISPATCH_CLIENTS`` (32) threads in a closed loop, each
  sending its next request as soon as its last was answered, against
  ``BENCH_DISPATCH_GUNICORN_WORKERS`` (4, as ``docker-compose.yml`` runs gunicorn) sync
  workers. This measures throughput, not what a worker waits: 32 requests are always in
  flight and only 4 are served at once, so each waits for about 7 others, and on a
  2-core host shared with the bench client, PostgreSQL and Redis its latency is mostly
  queueing (the service-time row shows how much).
- **Realistic** (``BENCH_DISPATCH_RATE``, requests a second): open-loop arrivals, at
  random (Poisson) at that rate whatever the server does, each latency counted from its
  arrival. People applying do not wait for each other's answers: 5,000 workers of whom
  about a fifth are awake for a wave, all applying within its 10-minute window, make 2
  requests a second; everyone awake applying in the window's first 20 seconds makes
  about 50. ``docs/performance.md`` reports a run at 50 a second, a rush harsher than the
  window asks for, next to the stress figure.
"""

import http.client
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis

from bench import _request_costs

ROOT = Path(__file__).resolve().parents[1]
WORKERS = int(os.environ.get("BENCH_DISPATCH_WORKERS", "5000"))
SLOTS = int(os.environ.get("BENCH_DISPATCH_SLOTS", "1000"))
CLIENTS = int(os.environ.get("BENCH_DISPATCH_CLIENTS", "32"))
GUNICORN_WORKERS = int(os.environ.get("BENCH_DISPATCH_GUNICORN_WORKERS", "4"))
# Requests a second arriving at random (open loop); 0: ``CLIENTS`` threads in a closed loop.
RATE = float(os.environ.get("BENCH_DISPATCH_RATE", "0"))
OPEN_LOOP_THREADS = 64
# Share of the world's crowd workers per UTC offset bucket (0 = UTC+0 ... 23 = UTC-1), a
# rough shape of where crowd workers live (Americas, Europe and Africa, South Asia, East Asia).
POPULATION = [
    4, 5, 4, 3, 2, 6, 9, 4, 4, 4, 3, 2, 2, 2, 2, 2, 2, 3, 10, 8, 6, 5, 4, 4,
]  # fmt: skip
# Chance that a worker looks for work in a given local hour (0-23): awake 7-23, evening peak.
ACTIVITY = [
    0.03, 0.02, 0.02, 0.02, 0.02, 0.03, 0.06, 0.15, 0.25, 0.3, 0.3, 0.3,
    0.3, 0.3, 0.3, 0.3, 0.3, 0.35, 0.4, 0.45, 0.45, 0.4, 0.25, 0.1,
]  # fmt: skip


def bucket_zone(bucket: int) -> str:
    """A time zone whose UTC offset is the bucket's all year: bucket ``b`` is UTC+b up to 12,
    UTC+b-24 above (``Etc/GMT-5`` is UTC+5: the POSIX sign is the other way round)."""
    offset = bucket if bucket <= 12 else bucket - 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def _seed() -> dict[str, Any]:
    from rest_framework.authtoken.models import Token

    from accounts import services as accounts_services
    from accounts.models import User, WorkerProfile
    from ledger.accounts import external_bank, org_available
    from ledger.services import transfer
    from notifications.models import NotificationSettings

    staff = User.objects.create_user(username="dispatch-staff", email="s@dispatch.bench", password="x" * 20)
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    requester = User.objects.create_user(username="dispatch-requester", email="r@dispatch.bench", password="x" * 20)
    organisation = accounts_services.organisation_create(
        owner=requester, legal_name="Dispatch Bench", display_name="Dispatch", country="DE", contact_email="d@b.example"
    )
    accounts_services.organisation_verify(organisation=organisation, verified_by=staff, legal_name="Dispatch Bench")
    transfer(
        transfer_id="dispatch-bench:deposit",
        debit=external_bank(),
        credit=org_available(organisation),
        amount=10_000_000_000,
        code="deposit",
    )
    rng = random.Random(26)
    buckets = rng.choices(range(24), weights=POPULATION, k=WORKERS)
    users = User.objects.bulk_create(
        [User(username=f"dispatch-worker-{i}", email=f"w{i}@dispatch.bench", password="!") for i in range(WORKERS)],
        batch_size=2000,
    )
    WorkerProfile.objects.bulk_create([WorkerProfile(user=u) for u in users], batch_size=2000)
    # Each worker's time zone, as chosen at registration: the stratified draw reads it (and
    # nothing else of the bucket).
    NotificationSettings.objects.bulk_create(
        [NotificationSettings(user=u, time_zone=bucket_zone(b)) for u, b in zip(users, buckets, strict=True)],
        batch_size=2000,
    )
    tokens = Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users], batch_size=2000)
    _seed_history(users, buckets)
    return {
        "organisation": organisation,
        "requester": requester,
        "workers": [(u.pk, t.key, b) for u, t, b in zip(users, tokens, buckets, strict=True)],
    }


def _seed_history(users: list[Any], buckets: list[int]) -> None:
    """A week of visits before today (UTC): each worker active in each UTC hour of each of
    the 7 days with the chance ``ACTIVITY`` gives their local hour, stored as the platform's
    own activity rows (what ``worker_activity_record`` writes for those visits)."""
    from django.utils import timezone

    from tasks.activity import ACTIVITY_DAYS, hour_mask, utc_day
    from tasks.models import WorkerActivity

    history = random.Random(7)
    today = utc_day(timezone.now())
    rows = []
    for user, bucket in zip(users, buckets, strict=True):
        for back in range(1, ACTIVITY_DAYS + 1):
            hours = [hour for hour in range(24) if history.random() < ACTIVITY[(hour + bucket) % 24]]
            if hours:
                rows.append(WorkerActivity(worker=user, day=today - timedelta(days=back), hours=hour_mask(hours)))
    WorkerActivity.objects.bulk_create(rows, batch_size=5000)


def _batch(organisation: Any, requester: Any, title: str, mode: str) -> Any:
    from tasks import services

    batch = services.batch_create(
        organisation=organisation,
        actor=requester,
        title=title,
        description="Label a sentence.",
        purpose="Benchmarking fair dispatch.",
        data_use="Discarded after the run.",
        reward=50,
        assignments_per_task=1,
        estimated_minutes=1,
        time_allotted_minutes=600,
        lifetime_hours=24 * 7,
        template_html='<p>${text}</p><input name="label" required>',
        dispatch_mode=mode,
    )
    rows = "text\n" + "\n".join(f"sentence {i}" for i in range(SLOTS))
    services.batch_set_input(batch=batch, actor=requester, content=rows, file_format="csv")
    return services.batch_publish(batch=batch, actor=requester)


def _shift(batch_id: int, delta: timedelta) -> None:
    """Moves the batch's timeline back by ``delta``: the simulated clock moves forward."""
    from django.db.models import F

    from tasks.models import Batch, DispatchWave

    waves = DispatchWave.objects.filter(batch_id=batch_id)
    waves.update(opens_at=F("opens_at") - delta, draws_at=F("draws_at") - delta)
    Batch.objects.filter(pk=batch_id).update(
        published_at=F("published_at") - delta,
        dispatch_fcfs_at=F("dispatch_fcfs_at") - delta,
        dispatch_cap_until=F("dispatch_cap_until") - delta,
        expires_at=F("expires_at") - delta,
    )


def _post_all(port: int, requests: list[tuple[str, str, Any]]) -> list[tuple[Any, int, float, dict[str, Any]]]:
    """POSTs each (path, token, tag); returns (tag, status, seconds, body).

    Closed loop (``RATE`` 0): ``CLIENTS`` threads send one after another, each as soon as
    its previous answer came. Open loop (``RATE`` > 0): requests arrive at random (Poisson)
    at ``RATE`` a second whatever the server does, sent by enough threads that none waits
    for another, and each latency is counted from its arrival, so a request the client
    could not send at once still counts its wait."""
    jobs: queue.Queue[tuple[str, str, Any, float]] = queue.Queue()
    arrival = time.perf_counter()
    pacing = random.Random(len(requests))
    for path, token, tag in requests:
        if RATE > 0:
            arrival += pacing.expovariate(RATE)
        jobs.put((path, token, tag, arrival))
    results: list[tuple[Any, int, float, dict[str, Any]]] = []
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while True:
            try:
                path, token, tag, arrives = jobs.get_nowait()
            except queue.Empty:
                break
            if RATE > 0:
                time.sleep(max(0.0, arrives - time.perf_counter()))
            started = arrives if RATE > 0 else time.perf_counter()
            try:
                connection.request("POST", path, body=b"{}", headers={
                    "Authorization": f"Token {token}", "Content-Type": "application/json"})  # fmt: skip
                response = connection.getresponse()
                raw = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, raw = 599, b"{}"
            elapsed = time.perf_counter() - started
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            mine.append((tag, status, elapsed, body))
        connection.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(OPEN_LOOP_THREADS if RATE > 0 else CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000 if ordered else 0.0


def _percentile(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q / 100) - 1)] if ordered else 0.0


def _spread(given_by_worker: Counter[int], active: set[int], bucket_of: dict[int, int]) -> tuple[float, float, int]:
    """(lowest, highest) over buckets with active workers of slot share / active share, and
    how many buckets fall outside 0.8-1.25."""
    slots = sum(given_by_worker.values())
    per_bucket_slots: Counter[int] = Counter()
    for worker, count in given_by_worker.items():
        per_bucket_slots[bucket_of[worker]] += count
    per_bucket_active = Counter(bucket_of[w] for w in active)
    ratios = [(per_bucket_slots[b] / slots) / (per_bucket_active[b] / len(active)) for b in per_bucket_active if slots]
    outside = sum(1 for r in ratios if not 0.8 <= r <= 1.25)
    return min(ratios), max(ratios), outside


def _expected_spread(
    waves: list[Any], slots: int, leftovers: Counter[int], active: set[int], bucket_of: dict[int, int], *, equal: bool
) -> tuple[float, float, int]:
    """The Spread without the lottery's luck: each wave's slots shared among its applicants
    in proportion to their weights. ``equal``: the same applicants, but every wave planned an
    equal share (what was not given rolling over, as the draw does); else the slots each wave
    really gave. Slots left after the waves go as they really went (``leftovers``), or, for
    equal waves, to the active workers' buckets in proportion."""
    expected: dict[int, float] = {}
    in_hands = 0
    for index, wave in enumerate(waves):
        pool = [(int(entry[0]), int(entry[1])) for entry in wave.pool]
        if equal:
            planned = slots * (index + 1) // len(waves)
            given = max(0, min(len(pool), planned - in_hands))
        else:
            given = wave.slots_given
        in_hands += given
        total_weight = sum(weight for _worker, weight in pool)
        for worker, weight in pool:
            bucket = bucket_of[worker]
            expected[bucket] = expected.get(bucket, 0.0) + given * weight / total_weight
    per_bucket_active = Counter(bucket_of[w] for w in active)
    if equal:
        for bucket, count in per_bucket_active.items():
            expected[bucket] = expected.get(bucket, 0.0) + (slots - in_hands) * count / len(active)
    else:
        for worker, count in leftovers.items():
            expected[bucket_of[worker]] = expected.get(bucket_of[worker], 0.0) + count
    total = sum(expected.values())
    ratios = [(expected.get(b, 0.0) / total) / (per_bucket_active[b] / len(active)) for b in per_bucket_active]
    return min(ratios), max(ratios), sum(1 for r in ratios if not 0.8 <= r <= 1.25)


def run() -> list[dict[str, str]]:
    from django.db.models import Count
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from governance.models import Rule, RuleVersion
    from tasks import jobs
    from tasks.models import Assignment, AssignmentAttempt, DispatchWave, WaveApplication

    seed = _seed()
    port = _free_port()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    redis.Redis.from_url(redis_url).flushdb()
    costs = tempfile.mkdtemp(prefix="bench-request-costs-")
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}",
        "COOP_TESTING": "0",
        "DB_CONN_MAX_AGE": "60",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": redis_url,
        "BENCH_REQUEST_COSTS": costs,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "coop.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(GUNICORN_WORKERS), "--log-level", "warning",
         "-c", str(ROOT / "bench" / "_request_costs.py")],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    load_before = os.getloadavg()
    statuses: Counter[int] = Counter()
    apply_times: list[float] = []
    accept_times: list[float] = []
    bucket_of = {pk: bucket for pk, _token, bucket in seed["workers"]}
    token_of = {pk: token for pk, token, _bucket in seed["workers"]}
    rng = random.Random(2026)
    try:
        for _ in range(150):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/ping/")
                break
            except OSError:
                time.sleep(0.2)
        batch = _batch(seed["organisation"], seed["requester"], "Waves batch", "waves")
        # A site in service is warm; a gunicorn worker imports the API's modules on its first
        # request, which is start-up, not the rush. Every worker answers a few (405: the
        # dispatch page is read-only, refused after authentication) before the rush; not counted.
        warm = Token.objects.create(user=seed["requester"]).key
        _post_all(port, [(f"/api/tasks/feed/{batch.pk}/dispatch/", warm, "warm-up")] * (20 * GUNICORN_WORKERS))
        waves = list(DispatchWave.objects.filter(batch=batch).order_by("number"))
        spacing = waves[1].opens_at - waves[0].opens_at if len(waves) > 1 else timedelta(hours=24)
        publish_hour = timezone.now().hour
        active: set[int] = set()
        scripts = [pk for pk, _t, _b in seed["workers"][: max(1, WORKERS // 100)]]
        for index, wave in enumerate(waves):
            hour = (publish_hour + index) % 24
            awake = [pk for pk, _t, b in seed["workers"] if rng.random() < ACTIVITY[(hour + b) % 24]]
            active.update(awake)
            requests = [(f"/api/tasks/feed/{batch.pk}/apply/", token_of[pk], "apply") for pk in awake]
            # Scripts try to grab slots directly while the batch opens in waves: refused.
            requests += [(f"/api/tasks/feed/{batch.pk}/accept/", token_of[pk], "accept") for pk in scripts]
            rng.shuffle(requests)
            for tag, status, seconds, _body in _post_all(port, requests):
                statuses[status] += 1
                (apply_times if tag == "apply" else accept_times).append(seconds)
            _shift(batch.pk, wave.draws_at - wave.opens_at)  # the window closes
            jobs.dispatch_draw_due_waves()
            _shift(batch.pk, spacing - (wave.draws_at - wave.opens_at))  # the next wave opens
        # After the period: first come, first served for what is left.
        leftovers = [(f"/api/tasks/feed/{batch.pk}/accept/", token_of[pk], "accept") for pk in sorted(active)]
        for _tag, status, seconds, _body in _post_all(port, leftovers):
            statuses[status] += 1
            accept_times.append(seconds)
        slots = Assignment.objects.filter(batch=batch)
        accepted = slots.filter(status=Assignment.Status.ACCEPTED)
        duplicates = accepted.values("task_id", "worker_id").annotate(n=Count("id")).filter(n__gt=1).count() + (
            AssignmentAttempt.objects.filter(batch=batch).count() - accepted.count()
        )
        lost = slots.count() - accepted.count() - slots.filter(status=Assignment.Status.OPEN).count()
        left_open = slots.filter(status=Assignment.Status.OPEN).count()
        by_lottery = WaveApplication.objects.filter(wave__batch=batch, outcome=WaveApplication.Outcome.GIVEN).count()
        per_worker = accepted.values_list("worker_id").annotate(n=Count("id")).values_list("worker_id", "n")
        given_all = Counter(dict(per_worker))
        waves_low, waves_high, waves_outside = _spread(given_all, active, bucket_of)
        drawn_waves = list(DispatchWave.objects.filter(batch=batch).order_by("number"))
        by_lottery_worker = Counter(
            WaveApplication.objects.filter(wave__batch=batch, outcome=WaveApplication.Outcome.GIVEN).values_list(
                "worker_id", flat=True
            )
        )
        leftovers = given_all - by_lottery_worker
        sized = _expected_spread(drawn_waves, SLOTS, leftovers, active, bucket_of, equal=False)
        equal = _expected_spread(drawn_waves, SLOTS, leftovers, active, bucket_of, equal=True)
        weights = [wave.weight for wave in drawn_waves]
        formulas = Counter(wave.draw_formula for wave in drawn_waves)
        plan_range = f"wave weights {min(weights)}-{max(weights)}, floor {batch.dispatch_activity.get('floor')}"
        # The baseline: the same batch opened all at once to whoever is awake at publication.
        rule = Rule.objects.get(key="dispatch_all_at_once_max_slots")
        RuleVersion.objects.create(rule=rule, value=1_000_000, effective_at=timezone.now() - timedelta(seconds=1))
        from core.rules import rule_cache_invalidate

        rule_cache_invalidate("dispatch_all_at_once_max_slots")
        baseline = _batch(seed["organisation"], seed["requester"], "Baseline batch", "all_at_once")
        awake = [pk for pk, _t, b in seed["workers"] if rng.random() < ACTIVITY[(publish_hour + b) % 24]]
        rush: list[tuple[str, str, Any]] = []
        for _round in range(3):  # a script accepts again and again, as fast as it can
            rush += [(f"/api/tasks/feed/{baseline.pk}/accept/", token_of[pk], "baseline") for pk in awake]
        for _tag, status, seconds, _body in _post_all(port, rush):
            statuses[status] += 1
            accept_times.append(seconds)
        baseline_given = Counter(
            dict(
                Assignment.objects.filter(batch=baseline, worker__isnull=False)
                .values_list("worker_id")
                .annotate(n=Count("id"))
                .values_list("worker_id", "n")
            )
        )
        base_low, base_high, base_outside = _spread(baseline_given, active, bucket_of)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()
    served = _request_costs.read(costs)
    shutil.rmtree(costs, ignore_errors=True)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    scale = f"{WORKERS:,} workers, {SLOTS:,} slots, {len(waves)} waves"
    load = (
        f"{'open loop, ' + format(RATE, 'g') + ' requests/s' if RATE > 0 else str(CLIENTS) + ' clients, closed loop'}"
        f" on {GUNICORN_WORKERS} gunicorn workers; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    cost = {kind: [row for row in served if row[1].endswith(f"/{kind}/")] for kind in ("apply", "accept")}
    return [
        {
            "what": f"Rush ({scale}): duplicates / lost / 5xx",
            "figure": f"{duplicates} / {lost} / {server_errors}",
            "reference": f"{sum(statuses.values())} requests; {left_open} slots left open; statuses {dict(statuses)}",
            "ratio": "-",
            "goal": "0 / 0 / 0",
        },
        {
            "what": "Rush: p99 apply / accept",
            "figure": f"{_p99(apply_times):.0f} ms / {_p99(accept_times):.0f} ms",
            "reference": f"{len(apply_times)} applications, {len(accept_times)} accepts; {load}",
            "ratio": "-",
            "goal": "< 250 ms each",
        },
        {
            "what": "Rush: in the server, CPU per request apply / accept (median, p99)",
            "figure": " / ".join(
                f"{_percentile([r[3] for r in cost[k]], 50):.1f} ms ({_percentile([r[3] for r in cost[k]], 99):.1f})"
                for k in ("apply", "accept")
            ),
            "reference": "service time p99 (in the worker, without the wait for a free one): "
            + " / ".join(f"{_percentile([r[4] for r in cost[k]], 99):.0f} ms" for k in ("apply", "accept")),
            "ratio": "-",
            "goal": "-",
        },
        {
            "what": "Spread: slot share / active-worker share per time-zone bucket, waves",
            "figure": f"{waves_low:.2f} - {waves_high:.2f} ({waves_outside} of 24 outside)",
            "reference": f"FCFS baseline {base_low:.2f} - {base_high:.2f} ({base_outside} outside)",
            "ratio": f"{by_lottery} of {SLOTS} given by lottery; draw formula: {dict(sorted(formulas.items()))}",
            "goal": "every bucket 0.8 - 1.25",
        },
        {
            "what": "Spread expected from the draws' applicants (no lottery luck)",
            "figure": f"sized by activity {sized[0]:.2f} - {sized[1]:.2f} ({sized[2]} outside)",
            "reference": f"equal waves, same applicants: {equal[0]:.2f} - {equal[1]:.2f} ({equal[2]} outside)",
            "ratio": plan_range,
            "goal": "every bucket 0.8 - 1.25",
        },
    ]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
