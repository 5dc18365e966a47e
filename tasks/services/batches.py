"""A batch's lifecycle: create a draft, set its input, publish (wage floor, rule versions,
slots reserved in escrow), pause, resume, hold for a mass-rejection case, cancel, expire,
grow, extend its lifetime or a too-short time allotted, complete."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from accounts.models import Organisation, User
from core.audit import audit_record
from core.errors import AppError
from core.labels import label
from core.money import MAX_REWARD, basis_points, format_amount, platform_currency
from core.queue import queue_on_commit
from governance.models import Rule
from governance.selectors import rule_in_force, rule_value
from tasks import books, inputs
from tasks.hooks import batch_is_held, organisation_publish_blocked
from tasks.models import Assignment, Batch, DispatchMode, Qualification, QualificationRequirement, Task
from tasks.quality import controls
from tasks.services.common import _invalid, _lock_batch, _require_staff
from tasks.services.dispatch import _batch_dispatch_plan
from tasks.services.fair_pay import _batch_rule, batch_good_faith_seconds, good_faith_median
from tasks.states import BATCH, UNFINISHED_ASSIGNMENT

# Rules a batch records at publish; later rule changes never alter a live batch.
BATCH_RULES = (
    "minimum_hourly_wage",
    "platform_fee_bps",
    "auto_approval_hours",
    "contest_window_days",
    "approval_rate_window_days",
    "fair_pay_fast_share_bps",
)


BATCH_PERMISSIONS = ("tasks.view_batch", "tasks.change_batch", "tasks.review_batch")


MAX_ASSIGNMENTS_PER_TASK = 1000


MAX_LIFETIME_HOURS = 24 * 365


MAX_TIME_ALLOTTED_MINUTES = 24 * 60 * 7


def _validate_requirements(
    organisation: Organisation, requirements: list[dict[str, Any]], fields: dict[str, list[str]], *, sandbox: bool
) -> list[QualificationRequirement]:
    built: list[QualificationRequirement] = []
    for index, item in enumerate(requirements):
        name = f"requirements[{index}]"
        kind = item.get("kind")
        value = item.get("value", 0)
        if kind not in QualificationRequirement.Kind.values:
            fields[name] = [
                _("Unknown kind; use one of %(values)s.") % {"values": ", ".join(QualificationRequirement.Kind.values)}
            ]
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            fields[name] = [_("The value must be a whole number, zero or more.")]
            continue
        requirement = QualificationRequirement(kind=kind, value=value, reason=str(item.get("reason", "")).strip())
        if kind == QualificationRequirement.Kind.APPROVAL_RATE and value > 10_000:
            fields[name] = [_("An approval rate is in basis points: 0 to 10000.")]
        elif kind == QualificationRequirement.Kind.LOCALE:
            countries = item.get("countries") or []
            if not countries or not all(isinstance(c, str) and len(c) == 2 and c.isalpha() for c in countries):
                fields[name] = [_("List the allowed countries as two-letter codes.")]
            elif not requirement.reason:
                fields[name] = [_("A location restriction needs a reason that workers can read.")]
            requirement.countries = "," + ",".join(sorted({c.upper() for c in countries})) + ","
        elif kind == QualificationRequirement.Kind.QUALIFICATION:
            qualification = Qualification.objects.filter(
                organisation=organisation, pk=item.get("qualification_id") or 0
            ).first()
            if qualification is None:
                fields[name] = [_("No such qualification of this organisation.")]
            elif qualification.is_sandbox and not sandbox:
                fields[name] = [
                    _("'%(name)s' was made in the sandbox: it can gate sandbox batches only.")
                    % {"name": qualification.name}
                ]
            requirement.qualification = qualification
            requirement.value = value or 1
        built.append(requirement)
    return built


MAX_COMPLETION_CODES = 10_000
MAX_COMPLETION_CODE_LENGTH = 100


def _completion_codes_clean(codes: list[str] | None, external_url: str, fields: dict[str, list[str]]) -> list[str]:
    """The batch's completion codes, stripped and without repeats, in the order given."""
    cleaned: list[str] = []
    for code in codes or []:
        code = str(code).strip()
        if code and code not in cleaned:
            cleaned.append(code)
    if not cleaned:
        return []
    if not external_url.strip():
        fields["completion_codes"] = [_("Completion codes are for external tasks (a survey link) only.")]
    elif len(cleaned) > MAX_COMPLETION_CODES:
        fields["completion_codes"] = [_("At most %(count)d completion codes.") % {"count": MAX_COMPLETION_CODES}]
    elif any(len(code) > MAX_COMPLETION_CODE_LENGTH or any(c.isspace() for c in code) for code in cleaned):
        fields["completion_codes"] = [
            _("Each completion code is one word of at most %(length)d characters, without spaces.")
            % {"length": MAX_COMPLETION_CODE_LENGTH}
        ]
    return cleaned


def _batch_fields_clean(
    *,
    organisation: Organisation,
    title: str,
    description: str,
    purpose: str,
    data_use: str,
    reward: int,
    assignments_per_task: int,
    estimated_minutes: int,
    time_allotted_minutes: int,
    lifetime_hours: int,
    content_warnings: str = "",
    keywords: str = "",
    auto_approval_hours: int | None = None,
    template_html: str = "",
    external_url: str = "",
    completion_codes: list[str] | None = None,
    requirements: list[dict[str, Any]] | None = None,
    control_threshold_bps: int | None = None,
    control_min_answered: int = 3,
    attention_checks: dict[str, dict[str, str]] | None = None,
    reuse_beyond_purpose: bool = False,
    dispatch_mode: str = DispatchMode.AUTO,
    sandbox: bool = False,
) -> tuple[dict[str, Any], list[QualificationRequirement]]:
    """A batch's fields checked and cleaned (as model field values) with its requirements
    built but not saved; ``AppError("invalid")`` naming every bad field. Shared by
    ``batch_create`` and ``batch_update`` so a draft is held to the same rules either way."""
    fields: dict[str, list[str]] = {}
    for name, text in (("title", title), ("description", description), ("purpose", purpose), ("data_use", data_use)):
        if not text.strip():
            fields[name] = [_("Required: workers read this before they accept.")]
    if len(title.strip()) > 200:
        fields["title"] = [_("At most 200 characters.")]
    if reward <= 0:
        fields["reward"] = [_("The reward must be more than zero.")]
    elif reward > MAX_REWARD:
        fields["reward"] = [
            _("At most %(amount)s per assignment.") % {"amount": format_amount(MAX_REWARD, platform_currency())}
        ]
    if not 1 <= assignments_per_task <= MAX_ASSIGNMENTS_PER_TASK:
        fields["assignments_per_task"] = [
            _("Between 1 and %(MAX_ASSIGNMENTS_PER_TASK)s.") % {"MAX_ASSIGNMENTS_PER_TASK": MAX_ASSIGNMENTS_PER_TASK}
        ]
    if not 1 <= estimated_minutes <= MAX_TIME_ALLOTTED_MINUTES:
        fields["estimated_minutes"] = [
            _("Between 1 and %(MAX_TIME_ALLOTTED_MINUTES)s minutes.")
            % {"MAX_TIME_ALLOTTED_MINUTES": MAX_TIME_ALLOTTED_MINUTES}
        ]
    if not 1 <= time_allotted_minutes <= MAX_TIME_ALLOTTED_MINUTES:
        fields["time_allotted_minutes"] = [
            _("Between 1 and %(MAX_TIME_ALLOTTED_MINUTES)s minutes.")
            % {"MAX_TIME_ALLOTTED_MINUTES": MAX_TIME_ALLOTTED_MINUTES}
        ]
    elif estimated_minutes >= 1 and time_allotted_minutes < estimated_minutes:
        fields["time_allotted_minutes"] = [_("Allow at least the estimated time.")]
    if not 1 <= lifetime_hours <= MAX_LIFETIME_HOURS:
        fields["lifetime_hours"] = [
            _("Between 1 and %(MAX_LIFETIME_HOURS)s hours.") % {"MAX_LIFETIME_HOURS": MAX_LIFETIME_HOURS}
        ]
    if auto_approval_hours is not None:
        limits = Rule.objects.filter(key="auto_approval_hours").values_list("min_value", "max_value").get()
        # The per-batch window has its own governed maximum (issue 20.9), under the rule's hard limit.
        longest = min(limits[1], rule_value("auto_approval_hours_max"))
        if not limits[0] <= auto_approval_hours <= longest:
            fields["auto_approval_hours"] = [
                _("The co-op allows %(limits)s to %(longest)s hours.") % {"limits": limits[0], "longest": longest}
            ]
    answer_fields: list[dict[str, Any]] = []
    placeholders: list[str] = []
    if control_threshold_bps is not None and (
        isinstance(control_threshold_bps, bool)
        or not isinstance(control_threshold_bps, int)
        or not 0 <= control_threshold_bps <= 10_000
    ):
        fields["control_threshold_bps"] = [_("A control threshold is a share from 0 to 100 %.")]
    if (
        isinstance(control_min_answered, bool)
        or not isinstance(control_min_answered, int)
        or not 1 <= control_min_answered <= 1000
    ):
        fields["control_min_answered"] = [_("Between 1 and 1000 answered checks.")]
    # Attention checks leave the template here (issue 27.2); those kept from before (a draft
    # edited or cloned, whose stored template no longer has them) are checked again.
    template_html, found_checks, check_errors = controls.template_attention_checks(template_html)
    fields.update(check_errors)
    checks = {**controls.attention_checks_clean(attention_checks, fields), **found_checks}
    if bool(template_html.strip()) == bool(external_url.strip()):
        fields["template_html"] = [_("Give either an HTML task template or an external task URL, not both.")]
    elif template_html.strip():
        answer_fields = inputs.template_answer_fields(template_html)
        placeholders = inputs.template_placeholders(template_html)
        if not answer_fields:
            fields["template_html"] = [_("The template has no named form fields (name=...) to answer.")]
        leaks = controls.placeholder_problems(placeholders)
        if leaks:
            fields.setdefault("template_html", []).extend(leaks)
        # A check belongs to its form field: a field gone from the template takes its check along.
        names = {field["name"] for field in answer_fields}
        checks = {name: check for name, check in checks.items() if name in names}
    elif not external_url.startswith("https://"):
        fields["external_url"] = [_("The external task URL must start with https://.")]
    elif len(external_url.strip()) > 500:
        fields["external_url"] = [_("At most 500 characters.")]
    if not answer_fields:
        checks = {}
    codes = _completion_codes_clean(completion_codes, external_url, fields)
    if dispatch_mode not in DispatchMode.values:
        fields["dispatch_mode"] = [_("Choose automatic, waves or all at once.")]
    built = _validate_requirements(organisation, requirements or [], fields, sandbox=sandbox)
    if fields:
        raise _invalid(fields)
    values = {
        "title": title.strip(),
        "description": description.strip(),
        "purpose": purpose.strip(),
        "data_use": data_use.strip(),
        "content_warnings": content_warnings.strip(),
        "keywords": keywords.strip(),
        "reward": reward,
        "assignments_per_task": assignments_per_task,
        "estimated_minutes": estimated_minutes,
        "estimated_hourly_pay": reward * 60 // estimated_minutes,
        "time_allotted_minutes": time_allotted_minutes,
        "lifetime_hours": lifetime_hours,
        "auto_approval_hours": auto_approval_hours,
        "template_html": template_html if template_html.strip() else "",
        "external_url": external_url.strip() if not template_html.strip() else "",
        "completion_codes": codes,
        "answer_fields": answer_fields,
        "placeholders": placeholders,
        "attention_checks": checks,
        "control_threshold_bps": control_threshold_bps,
        "control_min_answered": control_min_answered,
        "reuse_beyond_purpose": bool(reuse_beyond_purpose),
        "dispatch_mode": dispatch_mode,
    }
    return values, built


def batch_create(
    *,
    organisation: Organisation,
    actor: User,
    title: str,
    description: str,
    purpose: str,
    data_use: str,
    reward: int,
    assignments_per_task: int,
    estimated_minutes: int,
    time_allotted_minutes: int,
    lifetime_hours: int,
    content_warnings: str = "",
    keywords: str = "",
    auto_approval_hours: int | None = None,
    template_html: str = "",
    external_url: str = "",
    completion_codes: list[str] | None = None,
    requirements: list[dict[str, Any]] | None = None,
    control_threshold_bps: int | None = None,
    control_min_answered: int = 3,
    attention_checks: dict[str, dict[str, str]] | None = None,
    reuse_beyond_purpose: bool = False,
    dispatch_mode: str = DispatchMode.AUTO,
    sandbox: bool = False,
) -> Batch:
    """Creates a draft batch (nothing is reserved yet); ``sandbox`` makes it a sandbox batch
    for good (play money, the organisation's own staff as workers: ``tasks.books``). Raises ``AppError("invalid")``
    with field errors and creates nothing on bad input. The organisation's staff group
    gets view/change/review permissions on it. Attention checks (``data-expected``) are taken
    out of the template (``tasks.quality.controls``); ``control_threshold_bps`` is the control
    accuracy under which work may be rejected."""
    _require_staff(actor, organisation)
    values, built = _batch_fields_clean(
        organisation=organisation,
        title=title,
        description=description,
        purpose=purpose,
        data_use=data_use,
        reward=reward,
        assignments_per_task=assignments_per_task,
        estimated_minutes=estimated_minutes,
        time_allotted_minutes=time_allotted_minutes,
        lifetime_hours=lifetime_hours,
        content_warnings=content_warnings,
        keywords=keywords,
        auto_approval_hours=auto_approval_hours,
        template_html=template_html,
        external_url=external_url,
        completion_codes=completion_codes,
        requirements=requirements,
        control_threshold_bps=control_threshold_bps,
        control_min_answered=control_min_answered,
        attention_checks=attention_checks,
        reuse_beyond_purpose=reuse_beyond_purpose,
        dispatch_mode=dispatch_mode,
        sandbox=sandbox,
    )
    with transaction.atomic():
        batch = Batch.objects.create(
            organisation=organisation,
            created_by=actor,
            currency=platform_currency(),
            is_sandbox=sandbox,
            **values,
        )
        for requirement in built:
            requirement.batch = batch
        QualificationRequirement.objects.bulk_create(built)
        for permission in BATCH_PERMISSIONS:
            assign_perm(permission, organisation.staff_group, batch)
        audit_record(
            actor=actor, action="batch.created", target=batch, after={"title": batch.title, "sandbox": sandbox}
        )
    return batch


def batch_set_input(*, batch: Batch, actor: User, content: str, file_format: str) -> int:
    """Replaces a draft batch's input rows with those of a CSV or JSON file; returns the row
    count. A bad file raises ``AppError("invalid_input_file")`` with per-row errors in
    ``details["errors"]`` and changes nothing."""
    rows = inputs.parse_input_rows(content=content, file_format=file_format, placeholders=batch.placeholders)
    split = controls.split_control_columns(rows, batch.answer_fields)
    with transaction.atomic():
        batch = _lock_batch(batch)
        BATCH.target(batch.status, "edited")
        control_count = _tasks_replace(batch, split)
        audit_record(
            actor=actor, action="batch.input_set", target=batch, after={"rows": len(rows), "controls": control_count}
        )
    return len(rows)


def _tasks_replace(batch: Batch, split: list[tuple[dict[str, str], dict[str, dict[str, str]]]]) -> int:
    """Replaces the locked draft's tasks with ``split`` rows (input shown to workers, control
    answers: ``controls.split_control_columns``) and records the controls' share; returns how
    many rows are controls (issue 27.1)."""
    batch.tasks.all().delete()
    Task.objects.bulk_create(
        [
            Task(batch=batch, row_number=number, input=shown, control=control)
            for number, (shown, control) in enumerate(split, start=1)
        ],
        batch_size=2000,
    )
    control_count = sum(1 for _shown, control in split if control)
    batch.control_share_bps = control_count * 10_000 // len(split) if split else 0
    batch.save(update_fields=["control_share_bps"])
    return control_count


def _create_slots(batch: Batch, per_task: int) -> list[int]:
    """Creates ``per_task`` open slots on every task of ``batch``; returns their ids."""
    first_new = Assignment.objects.order_by("-id").values_list("id", flat=True).first() or 0
    task_ids = list(batch.tasks.order_by("id").values_list("id", flat=True))
    Assignment.objects.bulk_create(
        [Assignment(batch=batch, task_id=task_id) for task_id in task_ids for _copy in range(per_task)], batch_size=2000
    )
    return list(
        Assignment.objects.filter(batch=batch, status=Assignment.Status.OPEN, id__gt=first_new)
        .order_by("id")
        .values_list("id", flat=True)
    )


def _reserve(batch: Batch, assignment_ids: list[int]) -> None:
    books.reserve(batch, assignment_ids)


def batch_publish(*, batch: Batch, actor: User) -> Batch:
    """Publishes a draft batch: checks the wage floor, records the rule versions in force,
    creates every slot and reserves reward + fee for each in escrow, all or nothing.

    Raises ``below_minimum_wage`` (reward per estimated hour under the governed floor),
    ``no_input`` (the template needs input rows), ``organisation_unverified`` and the
    ledger's ``insufficient_funds`` (409); on any refusal nothing changes."""
    with transaction.atomic():
        batch = _lock_batch(batch)
        BATCH.target(batch.status, "published")
        organisation = batch.organisation
        # The sandbox moves no money, so it needs no verified legal identity.
        if not organisation.is_verified and not batch.is_sandbox:
            raise AppError(
                "organisation_unverified",
                _("The organisation's legal identity is not verified yet; the co-op must verify it before publishing."),
                status=409,
            )
        # Mass-rejection guard (disputes app): no new batch while a mass case is undecided.
        if organisation_publish_blocked(organisation):
            raise AppError(
                "publishing_frozen",
                _(
                    "A mass-rejection case against this organisation awaits its decision; "
                    "you can publish again once it is decided. Answer the case under "
                    "/api/disputes/cases/."
                ),
                status=409,
            )
        now = timezone.now()
        rules = {key: rule_in_force(key, at=now) for key in BATCH_RULES}
        wage = rules["minimum_hourly_wage"].value
        if batch.reward * 60 < wage * batch.estimated_minutes:
            needed = -(-wage * batch.estimated_minutes // 60)
            raise AppError(
                "below_minimum_wage",
                _(
                    "A reward of %(amount)s for %(estimated_minutes)s minutes pays "
                    "%(amount2)s an hour; the co-op's minimum is %(amount3)s. Raise the "
                    "reward to at least %(amount4)s or correct the estimate."
                )
                % {
                    "amount": format_amount(batch.reward, batch.currency),
                    "estimated_minutes": batch.estimated_minutes,
                    "amount2": format_amount(batch.estimated_hourly_pay, batch.currency),
                    "amount3": format_amount(wage, batch.currency),
                    "amount4": format_amount(needed, batch.currency),
                },
                details={"minimum_hourly_wage": wage, "minimum_reward": needed},
            )
        if not batch.tasks.exists():
            if batch.placeholders:
                raise AppError(
                    "no_input",
                    _("The template uses %(placeholders)s; upload input rows before publishing.")
                    % {"placeholders": ", ".join(batch.placeholders)},
                    status=409,
                )
            # A template without placeholders (or an external URL) is a single task, as MTurk's CreateHIT.
            Task.objects.create(batch=batch, row_number=1, input={})
        longest = rule_value("auto_approval_hours_max", at=now)
        if batch.auto_approval_hours is not None and batch.auto_approval_hours > longest:
            raise AppError(
                "invalid",
                _("Auto-approval window: the co-op now allows at most %(longest)s hours; shorten the window.")
                % {"longest": longest},
                fields={"auto_approval_hours": [_("At most %(longest)s hours.") % {"longest": longest}]},
            )
        batch.fee_per_assignment = basis_points(batch.reward, rules["platform_fee_bps"].value)
        batch.rule_versions = {key: {"version_id": r.version_id, "value": r.value} for key, r in rules.items()}
        batch.status = Batch.Status.PUBLISHED
        batch.published_at = now
        batch.expires_at = now + timedelta(hours=batch.lifetime_hours)
        batch.save(update_fields=["fee_per_assignment", "rule_versions", "status", "published_at", "expires_at"])
        slot_ids = _create_slots(batch, batch.assignments_per_task)
        # Fair dispatch: all at once or in waves, as the governed rule allows (tasks.dispatch).
        _batch_dispatch_plan(batch, total_slots=len(slot_ids), now=now)
        batch.save(
            update_fields=[
                "dispatch_rules",
                "dispatch_activity",
                "dispatch_fcfs_at",
                "dispatch_cap_until",
                "dispatch_cap_slots",
            ]
        )
        _reserve(batch, slot_ids)
        audit_record(
            actor=actor,
            action="batch.published",
            target=batch,
            before={"status": Batch.Status.DRAFT},
            after={
                "status": Batch.Status.PUBLISHED,
                "slots": len(slot_ids),
                "rule_versions": batch.rule_versions,
                "dispatch": "waves" if batch.dispatch_fcfs_at else "all_at_once",
            },
        )
        if not batch.is_sandbox:
            queue_on_commit("tasks.jobs.saved_search_alerts", batch_id=batch.pk)  # workers' saved searches
    return batch


def _batch_move(batch: Batch, actor: User | None, action: str, audit_action: str) -> Batch:
    with transaction.atomic():
        batch = _lock_batch(batch)
        before = batch.status
        batch.status = BATCH.target(batch.status, action)
        batch.save(update_fields=["status"])
        audit_record(actor=actor, action=audit_action, target=batch, before={"status": before})
    return batch


def batch_pause(*, batch: Batch, actor: User) -> Batch:
    """Stops new claims; accepted work can still be submitted and reviewed."""
    return _batch_move(batch, actor, "paused", "batch.pause")


def batch_resume(*, batch: Batch, actor: User) -> Batch:
    """Reopens a paused batch to claims; refused (``batch_held``) while a mass case holds it."""
    if batch_is_held(batch.pk):
        raise AppError(
            "batch_held",
            _("A mass-rejection case holds this batch; it can resume once the case is decided."),
            status=409,
        )
    return _batch_move(batch, actor, "resumed", "batch.resume")


def batch_hold_for_case(*, batch_id: int) -> None:
    """For the mass-rejection guard, inside its transaction: a live batch whose rejections
    are frozen is paused (no new claims; accepted work can still be submitted)."""
    batch = Batch.objects.select_for_update().get(pk=batch_id)
    if batch.status == Batch.Status.PUBLISHED:
        _batch_move(batch, None, "paused", "batch.held_for_case")


def _withdraw_open_slots(batch: Batch) -> int:
    open_ids = list(
        Assignment.objects.select_for_update()
        .filter(batch=batch, status=Assignment.Status.OPEN)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for pk in open_ids:
        books.give_back(batch, f"assignment:{pk}")
    Assignment.objects.filter(pk__in=open_ids).update(status=Assignment.Status.WITHDRAWN)
    return len(open_ids)


def _batch_end(batch: Batch, actor: User | None, action: str, audit_action: str) -> Batch:
    with transaction.atomic():
        batch = _lock_batch(batch)
        before = batch.status
        batch.status = BATCH.target(batch.status, action)
        batch.ended_at = timezone.now()
        batch.save(update_fields=["status", "ended_at"])
        withdrawn = _withdraw_open_slots(batch) if before != "draft" else 0
        audit_record(
            actor=actor,
            action=audit_action,
            target=batch,
            before={"status": before},
            after={"status": batch.status, "withdrawn_slots": withdrawn},
        )
    return batch


def batch_cancel(*, batch: Batch, actor: User) -> Batch:
    """Cancels the batch: unclaimed slots are withdrawn and their escrow returns to the
    organisation's balance. Work already accepted can still be submitted and is paid."""
    return _batch_end(batch, actor, "cancelled", "batch.cancel")


def batch_expire(*, batch: Batch) -> Batch:
    """The lifetime passed (Celery job): like a cancellation, by the system."""
    return _batch_end(batch, None, "expired", "batch.expire")


def batch_add_assignments(*, batch: Batch, actor: User, per_task: int) -> Batch:
    """Adds ``per_task`` slots to every task of a live batch and reserves their escrow
    (all or nothing; ``insufficient_funds`` changes nothing)."""
    if not 1 <= per_task <= MAX_ASSIGNMENTS_PER_TASK:
        raise _invalid(
            {
                "per_task": [
                    _("Between 1 and %(MAX_ASSIGNMENTS_PER_TASK)s.")
                    % {"MAX_ASSIGNMENTS_PER_TASK": MAX_ASSIGNMENTS_PER_TASK}
                ]
            }
        )
    with transaction.atomic():
        batch = _lock_batch(batch)
        if not BATCH.allowed(batch.status, "extended"):
            raise AppError(
                "invalid_state",
                _("Only a live batch can grow. This batch's state: %(state)s.") % {"state": label(batch.status)},
                status=409,
            )
        if batch.assignments_per_task + per_task > MAX_ASSIGNMENTS_PER_TASK:
            raise _invalid(
                {
                    "per_task": [
                        _("A task can have at most %(count)d assignments.") % {"count": MAX_ASSIGNMENTS_PER_TASK}
                    ]
                }
            )
        slot_ids = _create_slots(batch, per_task)
        _reserve(batch, slot_ids)
        before = batch.assignments_per_task
        batch.assignments_per_task = before + per_task
        batch.save(update_fields=["assignments_per_task"])
        audit_record(
            actor=actor,
            action="batch.assignments_added",
            target=batch,
            before={"assignments_per_task": before},
            after={"assignments_per_task": batch.assignments_per_task, "slots": len(slot_ids)},
        )
    return batch


def batch_extend_lifetime(*, batch: Batch, actor: User, hours: int) -> Batch:
    if not 1 <= hours <= MAX_LIFETIME_HOURS:
        raise _invalid(
            {"hours": [_("Between 1 and %(MAX_LIFETIME_HOURS)s hours.") % {"MAX_LIFETIME_HOURS": MAX_LIFETIME_HOURS}]}
        )
    with transaction.atomic():
        batch = _lock_batch(batch)
        if not BATCH.allowed(batch.status, "extended") or batch.expires_at is None:
            raise AppError(
                "invalid_state",
                _("Only a live batch can be extended. This batch's state: %(state)s.") % {"state": label(batch.status)},
                status=409,
            )
        before = batch.expires_at
        batch.expires_at = before + timedelta(hours=hours)
        batch.lifetime_hours += hours
        batch.save(update_fields=["expires_at", "lifetime_hours"])
        audit_record(
            actor=actor,
            action="batch.extended",
            target=batch,
            before={"expires_at": before.isoformat()},
            after={"expires_at": batch.expires_at.isoformat()},
        )
    return batch


def batch_time_allotted_grow(*, batch: Batch) -> int | None:
    """Nobody works for free against a short clock: when a live batch's good-faith median
    work time (``FAIR_PAY_FORMULA``) times the governed ``time_allotted_headroom_bps`` passes
    its time allotted, the time allotted grows to it, for the open slots (the next claim) and
    the accepted ones (their deadline moves). Returns the new minutes, or None if unchanged."""
    with transaction.atomic():
        batch = _lock_batch(batch)
        if batch.status not in (Batch.Status.PUBLISHED, Batch.Status.PAUSED):
            return None
        median = good_faith_median(
            batch_good_faith_seconds(batch=batch), fast_share_bps=_batch_rule(batch, "fair_pay_fast_share_bps")
        )
        if median is None:
            return None
        headroom = rule_value("time_allotted_headroom_bps")
        needed = min(MAX_TIME_ALLOTTED_MINUTES, -(-median * headroom // (10_000 * 60)))
        before = batch.time_allotted_minutes
        if needed <= before:
            return None
        batch.time_allotted_minutes = needed
        batch.save(update_fields=["time_allotted_minutes"])
        moved = Assignment.objects.filter(batch=batch, status=Assignment.Status.ACCEPTED).update(
            deadline_at=F("accepted_at") + timedelta(minutes=needed)
        )
        audit_record(
            actor=None,
            action="batch.time_allotted_grown",
            target=batch,
            before={"time_allotted_minutes": before},
            after={"time_allotted_minutes": needed, "median_work_seconds": median, "accepted_slots": moved},
        )
    return needed


def _complete_if_done(batch_id: int) -> None:
    """Marks a live batch completed once no slot is open, accepted or awaiting review."""
    batch = Batch.objects.select_for_update().get(pk=batch_id)
    if batch.status not in (Batch.Status.PUBLISHED, Batch.Status.PAUSED):
        return
    if Assignment.objects.filter(batch_id=batch_id, status__in=UNFINISHED_ASSIGNMENT).exists():
        return
    batch.status = BATCH.target(batch.status, "completed")
    batch.ended_at = timezone.now()
    batch.save(update_fields=["status", "ended_at"])
    audit_record(actor=None, action="batch.complete", target=batch, after={"status": Batch.Status.COMPLETED})
