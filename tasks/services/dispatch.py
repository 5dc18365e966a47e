"""Fair dispatch, the writing side: the plan a batch is published with, a worker's
application to a wave, and the wave's draw (see ``tasks.dispatch`` for the rule itself).

Lock order: the wave row, then (through the claim) one open slot at a time with SKIP LOCKED.
An application takes a KEY SHARE lock on its wave and checks that it is still undrawn; the
draw takes the wave FOR UPDATE, so it waits for every application in flight and no
application lands after its pool was read. The draw gives slots through the claim itself
(``_claim_open_slot``), so a slot is never given twice and a racing claim or return never
loses one.
"""

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import AppError
from core.rules import rule_in_force
from notifications.models import NotificationSettings
from notifications.selectors import moment_for
from tasks import dispatch, lottery, notices, selectors
from tasks.activity import activity_measure
from tasks.models import Assignment, Batch, DispatchMode, DispatchWave, WaveApplication
from tasks.services.claims import _cap_reached, _claim_open_slot, _not_taking_workers, _taking_workers


def _batch_dispatch_plan(batch: Batch, *, total_slots: int, now: datetime) -> None:
    """Decides at publish (under the batch lock) how ``batch``'s slots open, records the
    dispatch rule in force and writes the waves. Raises ``all_at_once_not_allowed`` (409)
    when the requester asked for all at once above the rule's limit; the caller's
    transaction then rolls back with nothing published."""
    found = {key: rule_in_force(key, at=now) for key in dispatch.DISPATCH_RULES}
    rules = {key: found[key].value for key in dispatch.DISPATCH_RULES}
    limit = rules["dispatch_all_at_once_max_slots"]
    if batch.dispatch_mode == DispatchMode.ALL_AT_ONCE and total_slots > limit and not batch.is_sandbox:
        raise AppError(
            "all_at_once_not_allowed",
            _(
                "The co-op's dispatch rule lets a batch open all at once only up to %(limit)s slots; this one has "
                "%(slots)s. Publish it in waves (choose 'waves' or 'automatic')."
            )
            % {"limit": limit, "slots": total_slots},
            status=409,
            details={"all_at_once_max_slots": limit, "slots": total_slots},
        )
    batch.dispatch_rules = {key: {"version_id": r.version_id, "value": r.value} for key, r in found.items()}
    # The sandbox (the requester's own people, play money) opens all at once: no lottery.
    waves = not batch.is_sandbox and (
        batch.dispatch_mode == DispatchMode.WAVES or (batch.dispatch_mode == DispatchMode.AUTO and total_slots > limit)
    )
    batch.dispatch_activity = {}
    if not waves:
        batch.dispatch_fcfs_at = None
        batch.dispatch_cap_until = None
        batch.dispatch_cap_slots = 0
        return
    plan = dispatch.wave_plan(published_at=now, rules=rules)
    # Each wave sized by the applicants to expect in its hour (tasks.activity): the figures
    # and the weights they give are stored with the batch, so the sizes can be re-derived.
    measure = activity_measure(batch=batch, at=now)
    figures = [measure.hours[dispatch.wave_hour(wave)] for wave in plan]
    sized = dispatch.wave_weights(figures=figures, floor_bps=rules["dispatch_wave_floor_bps"])
    shares = dispatch.cumulative_bps(sized.weights)
    batch.dispatch_activity = measure.stored(floor=sized.floor, equal=sized.equal)
    # After the period (the last wave drawn) what is left is first come, first served.
    batch.dispatch_fcfs_at = max(now + timedelta(hours=rules["dispatch_period_hours"]), plan[-1].draws_at)
    batch.dispatch_cap_until = now + timedelta(hours=rules["dispatch_cap_hours"])
    batch.dispatch_cap_slots = dispatch.cap_slots(total=total_slots, cap_bps=rules["dispatch_cap_bps"])
    DispatchWave.objects.bulk_create(
        [
            DispatchWave(
                batch=batch,
                number=wave.number,
                opens_at=wave.opens_at,
                draws_at=wave.draws_at,
                cumulative_bps=share,
                activity=figure,
                weight=weight,
            )
            for wave, share, figure, weight in zip(plan, shares, figures, sized.weights, strict=True)
        ]
    )


def _at_cap(batch: Batch, worker_id: int, now: datetime, held: int | None = None) -> bool:
    """Whether the worker holds the most one worker may of ``batch`` in its first hours
    (``held``: the slots they hold, if already counted)."""
    if batch.dispatch_cap_until is None or batch.dispatch_cap_until <= now:
        return False
    if held is None:
        held = Assignment.objects.filter(batch_id=batch.pk, worker_id=worker_id).count()
    return held >= batch.dispatch_cap_slots


# The wave whose window is open, with its batch's status and expiry, in one statement.
_OPEN_WAVE_SQL = """
SELECT w.*, b.status AS batch_status, b.expires_at AS batch_expires_at
  FROM {wave} w JOIN {batch} b ON b.id = w.batch_id
 WHERE w.batch_id = %s AND w.opens_at <= %s AND w.draws_at > %s
 ORDER BY w.number LIMIT 1 FOR KEY SHARE OF w
"""


def _lock_open_wave(batch_id: int, now: datetime) -> tuple[DispatchWave | None, bool]:
    """The wave of ``batch_id`` whose application window is open at ``now`` (None when no
    window is open), locked against its draw (KEY SHARE on PostgreSQL: applications do not
    wait for each other, only the draw's FOR UPDATE waits for them), and whether its batch
    is published and not expired as its row says now."""
    if connection.vendor == "postgresql":
        sql = _OPEN_WAVE_SQL.format(wave=DispatchWave._meta.db_table, batch=Batch._meta.db_table)
        wave = next(iter(DispatchWave.objects.raw(sql, [batch_id, now, now])), None)
        status, expires_at = (wave.batch_status, wave.batch_expires_at) if wave else ("", None)  # type: ignore[attr-defined]
    else:
        wave = (
            DispatchWave.objects.select_for_update()
            .select_related("batch")
            .filter(batch_id=batch_id, opens_at__lte=now, draws_at__gt=now)
            .order_by("number")
            .first()
        )
        status, expires_at = (wave.batch.status, wave.batch.expires_at) if wave else ("", None)
    return wave, status == Batch.Status.PUBLISHED and (expires_at is None or expires_at > now)


def wave_apply(*, worker: User, batch: Batch) -> WaveApplication:
    """``worker`` asks for a slot in the wave of ``batch`` whose window is open now.

    ``batch`` as ``selectors.batch_for_worker`` read it, a copy a moment old will do: its
    status is read again with the wave, under the wave's lock, and the rest that the checks
    read (requirements, dispatch plan) is fixed at publication.
    Refuses, changing nothing: ``suspended`` (403), ``batch_not_available`` (409),
    ``not_eligible`` (403: blocked, requirements not met or the requester's own staff,
    reasons in ``details``), ``not_in_waves`` (409, the batch is first come, first served:
    accept directly), ``window_closed`` (409, with the next window's time in ``details``),
    ``cap_reached`` (409) and ``already_applied`` (409).

    Queries on the way to an application: the worker's standing for this batch, then in
    one transaction the open wave (locked, with the batch's status), the worker's slots
    and earnings, the application and its audit row."""
    if worker.is_suspended:
        raise AppError("suspended", _("Your account is suspended: %s") % worker.suspension_text, status=403)
    now = timezone.now()
    if not _taking_workers(batch, now):
        raise _not_taking_workers()
    reasons = selectors.worker_ineligibility(
        worker=worker, batch=batch, standing=selectors.batch_standing(worker=worker, batch=batch)
    )
    if reasons:
        raise AppError("not_eligible", " ".join(reasons), status=403, details={"reasons": reasons})
    if not dispatch.in_waves(batch, at=now):
        raise AppError(
            "not_in_waves",
            _("This batch is first come, first served: accept a task directly, no application is needed."),
            status=409,
        )
    days = int(batch.dispatch_rules["dispatch_lookback_days"]["value"])
    reference = int(batch.dispatch_rules["dispatch_weight_reference"]["value"])
    try:
        return _wave_apply(worker=worker, batch=batch, now=now, days=days, reference=reference)
    except _AlreadyApplied as applied:
        # Out of the transaction (rolled back by the failed insert), the worker's clock can be read.
        raise AppError(
            "already_applied",
            _("You have already applied to this wave; the draw is at %(when)s.")
            % {"when": moment_for(user=worker, moment=applied.draws_at, deadline=True)},
            status=409,
        ) from None


class _AlreadyApplied(Exception):
    def __init__(self, draws_at: datetime) -> None:
        self.draws_at = draws_at


def _wave_apply(*, worker: User, batch: Batch, now: datetime, days: int, reference: int) -> WaveApplication:
    with transaction.atomic():
        wave, taking_workers = _lock_open_wave(batch.pk, now)
        if wave is None:
            upcoming = dispatch.next_wave(batch=batch, at=now)
            when = upcoming.opens_at if upcoming else batch.dispatch_fcfs_at
            raise AppError(
                "window_closed",
                _("No application window of this batch is open now; the next opens at %(when)s.")
                % {"when": moment_for(user=worker, moment=when, deadline=True) if when else "-"},
                status=409,
                details={"next_window_at": when.isoformat() if when else None},
            )
        if not taking_workers:
            raise _not_taking_workers()
        if wave.state != DispatchWave.State.PENDING or wave.draws_at <= timezone.now():
            raise AppError(
                "window_closed", _("This wave's application window has just closed; try the next one."), status=409
            )
        held, earned = dispatch.applicant_figures(worker_id=worker.pk, batch_id=batch.pk, days=days, at=now)
        if _at_cap(batch, worker.pk, now, held=held):
            raise _cap_reached(batch, worker)
        weight = dispatch.lottery_weight(earned=earned, reference=reference)
        try:
            application = WaveApplication.objects.create(
                wave=wave, worker=worker, applied_at=now, recent_earnings=earned, weight=weight
            )
        except IntegrityError:
            # Raised out of the transaction, which rolls back (no savepoint is needed).
            raise _AlreadyApplied(wave.draws_at) from None
        audit_record(
            actor=worker,
            action="dispatch.applied",
            target=application,
            after={"batch": batch.pk, "wave": wave.number, "weight": weight},
        )
    wave.batch = batch
    return application


def _pool_entries(applications: list[WaveApplication], *, wave: DispatchWave) -> list[tuple[int, int, int | None]]:
    """The pool with each applicant's stratum: their UTC offset hour at the wave's opening,
    from the time zone in their settings (None for a worker with none), read in one query."""
    zones = dict(
        NotificationSettings.objects.filter(user_id__in=[a.worker_id for a in applications]).values_list(
            "user_id", "time_zone"
        )
    )
    return [
        (a.worker_id, a.weight, lottery.zone_stratum(time_zone=zones.get(a.worker_id), at=wave.opens_at))
        for a in applications
    ]


def _carry_in(wave: DispatchWave) -> dict[str, int]:
    """What the strata carried out of the batch's latest drawn wave before ``wave``, when it
    was drawn stratified (else nothing: the carries start again)."""
    previous = (
        DispatchWave.objects.filter(batch_id=wave.batch_id, number__lt=wave.number, state=DispatchWave.State.DRAWN)
        .order_by("-number")
        .values_list("draw_formula", "strata")
        .first()
    )
    if previous is None or previous[0] != lottery.STRATIFIED:
        return {}
    return {str(key): int(value) for key, value in (previous[1] or {}).get("carry_out", [])}


def dispatch_wave_draw(*, wave_id: int) -> DispatchWave:
    """Draws the lottery of a wave whose window has closed and gives its slots (system
    service: the periodic job ``tasks.jobs.dispatch_draw_due_waves`` calls it).

    Idempotent and crash-safe: the wave row is locked, a drawn wave is returned as it is,
    and the seed, pool, order drawn, every slot given and every outcome commit together or
    not at all. A paused batch's wave waits; an ended batch's wave is closed with nothing
    given. A drawn worker no longer eligible, suspended or at the cap is skipped (recorded
    as such) and the lottery draws the next."""
    with transaction.atomic():
        wave = DispatchWave.objects.select_for_update(of=("self",)).select_related("batch").get(pk=wave_id)
        now = timezone.now()
        if wave.state != DispatchWave.State.PENDING or wave.draws_at > now:
            return wave
        batch = Batch.objects.select_related("organisation").get(pk=wave.batch_id)
        if batch.status == Batch.Status.PAUSED:
            return wave
        applications = list(wave.applications.select_related("worker").order_by("worker_id"))
        pool = [(a.worker_id, a.weight) for a in applications]
        by_worker = {a.worker_id: a for a in applications}
        offered = 0
        if batch.status == Batch.Status.PUBLISHED:
            total = Assignment.objects.filter(batch_id=batch.pk).exclude(status=Assignment.Status.WITHDRAWN).count()
            open_now = Assignment.objects.filter(batch_id=batch.pk, status=Assignment.Status.OPEN).count()
            weights = DispatchWave.objects.filter(batch_id=batch.pk).aggregate(
                so_far=Sum("weight", filter=Q(number__lte=wave.number)), total=Sum("weight")
            )
            offered = dispatch.slots_to_give(
                total=total,
                open_now=open_now,
                weight_so_far=int(weights["so_far"] or 0),
                weight_total=int(weights["total"] or 0),
            )
        seed = secrets.token_hex(16)
        stratify = bool(int(batch.dispatch_rules.get("dispatch_stratify_by_zone", {}).get("value", 0)))
        entries = _pool_entries(applications, wave=wave) if stratify else []
        carry_in = _carry_in(wave) if stratify else {}
        given: dict[int, int] = {}
        deadlines: dict[int, datetime] = {}
        skipped: set[int] = set()
        requirements_read: list[Batch] = []

        def give(worker_id: int) -> bool | None:
            """Gives the drawn worker a slot: True when given, False when skipped, None when
            no slot is left at all."""
            if not requirements_read:
                requirements_read.append(selectors.attach_requirements([batch])[0])
            checked = requirements_read[0]
            worker = by_worker[worker_id].worker
            if (
                worker.is_suspended
                or not worker.is_active
                or _at_cap(checked, worker_id, now)
                or selectors.worker_ineligibility(worker=worker, batch=checked)
            ):
                skipped.add(worker_id)
                return False
            claimed = _claim_open_slot(
                batch_id=batch.pk, worker_id=worker_id, task_id=None, now=now, fast=False, gate=False
            )
            if claimed is None:
                # No open slot on a task this worker does not hold (or none left at all).
                skipped.add(worker_id)
                if not Assignment.objects.filter(batch_id=batch.pk, status=Assignment.Status.OPEN).exists():
                    return None
                return False
            given[worker_id] = claimed[0]
            deadlines[worker_id] = claimed[2]
            return True

        drawn: list[int] = []
        record: dict[str, Any] = {}
        if stratify:
            # Drawn even with nothing to give, so the record (and the carries) stay whole.
            result = lottery.stratified_draw(
                seed=seed, pool=entries, count=offered if pool else 0, carry_in=carry_in, give=give
            )
            drawn = result.drawn
            record = lottery.stratified_record(result, carry_in=carry_in)
        elif offered and pool:
            for worker_id in dispatch.draw_iter(seed=seed, pool=pool):
                drawn.append(worker_id)
                outcome = give(worker_id)
                if outcome is None:
                    break
                if outcome and len(given) >= offered:
                    break
        for worker_id, assignment_id in given.items():
            WaveApplication.objects.filter(pk=by_worker[worker_id].pk).update(
                outcome=WaveApplication.Outcome.GIVEN, assignment_id=assignment_id
            )
        if skipped:
            WaveApplication.objects.filter(wave=wave, worker_id__in=skipped).update(
                outcome=WaveApplication.Outcome.SKIPPED
            )
        not_drawn = [worker_id for worker_id in by_worker if worker_id not in given and worker_id not in skipped]
        WaveApplication.objects.filter(wave=wave, outcome=WaveApplication.Outcome.PENDING).update(
            outcome=WaveApplication.Outcome.NOT_DRAWN
        )
        wave.state = DispatchWave.State.DRAWN
        wave.seed = seed
        if stratify:
            wave.draw_formula = lottery.STRATIFIED
            wave.pool = [[worker_id, weight, stratum] for worker_id, weight, stratum in sorted(entries)]
        else:
            wave.draw_formula = lottery.LOTTERY
            wave.pool = [[worker_id, weight] for worker_id, weight in sorted(pool)]
        wave.strata = record
        wave.drawn = drawn
        wave.slots_offered = offered
        wave.slots_given = len(given)
        wave.drawn_at = now
        wave.save(
            update_fields=[
                "state",
                "seed",
                "draw_formula",
                "pool",
                "strata",
                "drawn",
                "slots_offered",
                "slots_given",
                "drawn_at",
            ]
        )
        audit_record(
            actor=None,
            action="dispatch.wave_drawn",
            target=wave,
            after={
                "batch": batch.pk,
                "wave": wave.number,
                "seed": seed,
                "formula": wave.draw_formula,
                "applicants": len(pool),
                "offered": offered,
                "given": len(given),
            },
        )
        # Told in the draw's own transaction: a drawn wave is never drawn again, so each
        # applicant hears once (a job re-run finds the wave drawn and returns above).
        notices.wave_drawn(
            batch=batch,
            wave=wave,
            given={worker_id: (given[worker_id], deadlines[worker_id]) for worker_id in given},
            not_drawn=not_drawn if batch.status == Batch.Status.PUBLISHED else [],
            applicants=len(pool),
        )
    return wave
