"""Before publishing, and after: edit a draft (every field, the template, the input rows),
delete it, clone any batch ("run again" with new rows); keep an organisation's own
templates in its library. A published batch's terms, which workers accepted its work
on, never change: editing them is refused and the clone is the way to change them."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import remove_perm

from accounts.models import Organisation, User
from core.audit import audit_record
from core.errors import AppError
from tasks import inputs
from tasks.models import Batch, QualificationRequirement, Task, TaskTemplate
from tasks.quality import controls
from tasks.services.batches import (
    BATCH_PERMISSIONS,
    _batch_fields_clean,
    _tasks_replace,
    _validate_requirements,
    batch_create,
)
from tasks.services.common import _invalid, _lock_batch, _require_staff
from tasks.states import BATCH

# The fields a requester sets (``batch_create``'s keywords), in the order forms show them.
BATCH_EDITABLE_FIELDS = (
    "title",
    "description",
    "purpose",
    "data_use",
    "content_warnings",
    "keywords",
    "reward",
    "assignments_per_task",
    "estimated_minutes",
    "time_allotted_minutes",
    "lifetime_hours",
    "auto_approval_hours",
    "dispatch_mode",
    "template_html",
    "external_url",
    "completion_codes",
    "reuse_beyond_purpose",
    "requirements",
    "control_threshold_bps",
    "control_min_answered",
    "attention_checks",
)
# What may still change once workers see the batch: only how it is found.
PUBLISHED_EDITABLE_FIELDS = frozenset({"keywords"})


def _requirement_dicts(batch: Batch) -> list[dict[str, Any]]:
    """The batch's requirements in ``batch_create``'s input shape."""
    rows: list[dict[str, Any]] = []
    for requirement in batch.requirements.order_by("id"):
        item: dict[str, Any] = {"kind": requirement.kind, "value": requirement.value}
        if requirement.kind == QualificationRequirement.Kind.LOCALE:
            item["countries"] = requirement.country_list
            item["reason"] = requirement.reason
        elif requirement.kind == QualificationRequirement.Kind.QUALIFICATION:
            item["qualification_id"] = requirement.qualification_id
        rows.append(item)
    return rows


def _requirement_key(requirement: QualificationRequirement) -> tuple[Any, ...]:
    return (
        requirement.kind,
        requirement.value,
        requirement.countries,
        requirement.reason,
        requirement.qualification_id if requirement.qualification is not None else None,
    )


def batch_fields(batch: Batch) -> dict[str, Any]:
    """Everything a requester set on ``batch``, as ``batch_create`` takes it."""
    values = {name: getattr(batch, name) for name in BATCH_EDITABLE_FIELDS if name != "requirements"}
    values["completion_codes"] = list(batch.completion_codes or [])
    values["requirements"] = _requirement_dicts(batch)
    return values


def _text(value: str) -> str:
    return value.replace("\r\n", "\n").strip()


def _checks(checks: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Attention checks as comparable pairs (a missing tolerance is an empty one)."""
    return {
        str(name): (str(check.get("expected", "")), str(check.get("tolerance") or ""))
        for name, check in checks.items()
        if isinstance(check, dict)
    }


def _changed_fields(batch: Batch, changes: dict[str, Any]) -> list[str]:
    """The names in ``changes`` whose value differs from the batch's. A template is compared
    without its attention checks (``data-expected``), which are compared as the checks they
    make together with any ``attention_checks`` given (or the batch's, kept)."""
    changed: list[str] = []
    if "template_html" in changes or "attention_checks" in changes:
        template = str(changes.get("template_html", batch.template_html))
        stripped, found, _problems = controls.template_attention_checks(template)
        given = changes.get("attention_checks", batch.attention_checks)
        checks = {**(given if isinstance(given, dict) else {}), **found}
        if "template_html" in changes and _text(stripped) != _text(batch.template_html):
            changed.append("template_html")
        if _checks(checks) != _checks(batch.attention_checks or {}):
            changed.append("attention_checks")
    for name, value in changes.items():
        if name in ("template_html", "attention_checks"):
            continue
        if name == "requirements":
            fields: dict[str, list[str]] = {}
            wanted = _validate_requirements(batch.organisation, value or [], fields, sandbox=batch.is_sandbox)
            current = list(batch.requirements.select_related("qualification").order_by("id"))
            if fields or sorted(map(_requirement_key, wanted)) != sorted(map(_requirement_key, current)):
                changed.append(name)
        elif name == "completion_codes":
            if [str(code).strip() for code in value or []] != list(batch.completion_codes or []):
                changed.append(name)
        else:
            current_value = getattr(batch, name)
            if isinstance(value, str) and isinstance(current_value, str):
                # Browsers send a textarea's line breaks as CRLF: the same text is no change.
                if _text(value) != _text(current_value):
                    changed.append(name)
            elif value != current_value:
                changed.append(name)
    return changed


def batch_update(
    *,
    batch: Batch,
    actor: User,
    changes: dict[str, Any],
    input_content: str | None = None,
    input_format: str = "csv",
) -> Batch:
    """Edits a batch for a person of its organisation (who got it with ``tasks.change_batch``).

    A draft: any field of ``BATCH_EDITABLE_FIELDS`` (requirements replaced when given),
    checked as ``batch_create`` checks them, and with ``input_content`` its input rows
    replaced in the same transaction. A template whose placeholders the stored rows do not
    fill is refused unless new rows come with it. A batch past its draft: only its keywords;
    a change to anything workers rely on is ``batch_not_draft`` (409) naming the fields.
    On any refusal nothing changes."""
    _require_staff(actor, batch.organisation)
    unknown = sorted(set(changes) - set(BATCH_EDITABLE_FIELDS))
    if unknown:
        raise _invalid({name: [_("Not a field of a batch.")] for name in unknown})
    with transaction.atomic():
        batch = _lock_batch(batch)
        if batch.status != Batch.Status.DRAFT:
            if input_content is not None:
                raise AppError(
                    "batch_not_draft",
                    _("This batch is published: its input rows cannot change. Clone it to run it again with new rows."),
                    status=409,
                )
            refused = [name for name in _changed_fields(batch, changes) if name not in PUBLISHED_EDITABLE_FIELDS]
            if refused:
                raise AppError(
                    "batch_not_draft",
                    _(
                        "This batch is published and workers took its work on these terms, so these cannot "
                        "change: %(fields)s. Clone it to run it again with the changes."
                    )
                    % {"fields": ", ".join(name.replace("_", " ") for name in refused)},
                    status=409,
                    fields={name: [_("Fixed once the batch is published.")] for name in refused},
                )
            keywords = str(changes.get("keywords", batch.keywords)).strip()
            if len(keywords) > 400:
                raise _invalid({"keywords": [_("At most 400 characters.")]})
            if keywords != batch.keywords:
                before = batch.keywords
                batch.keywords = keywords
                batch.save(update_fields=["keywords"])
                audit_record(
                    actor=actor,
                    action="batch.edited",
                    target=batch,
                    before={"keywords": before},
                    after={"keywords": keywords},
                )
            return batch
        BATCH.target(batch.status, "edited")
        merged = {**batch_fields(batch), **changes}
        values, built = _batch_fields_clean(organisation=batch.organisation, sandbox=batch.is_sandbox, **merged)
        rows: list[tuple[dict[str, str], dict[str, dict[str, str]]]] | None = None
        if input_content is not None:
            # Control answers leave the rows workers see, as in ``batch_set_input`` (issue 27.1).
            rows = controls.split_control_columns(
                inputs.parse_input_rows(
                    content=input_content, file_format=input_format, placeholders=values["placeholders"]
                ),
                values["answer_fields"],
            )
        elif values["placeholders"] and values["placeholders"] != batch.placeholders:
            missing = sorted(
                {
                    name
                    for row in batch.tasks.values_list("input", flat=True).iterator()
                    for name in values["placeholders"]
                    if not str(row.get(name) or "").strip()
                }
            )
            if missing:
                raise _invalid(
                    {
                        "template_html": [
                            _(
                                "The input rows have no values for %(names)s; upload rows with those columns "
                                "together with this template."
                            )
                            % {"names": ", ".join("${" + name + "}" for name in missing)}
                        ]
                    }
                )
        changed = [name for name in values if getattr(batch, name) != values[name]]
        for name in changed:
            setattr(batch, name, values[name])
        if changed:
            batch.save(update_fields=changed)
        if "requirements" in changes:
            batch.requirements.all().delete()
            for requirement in built:
                requirement.batch = batch
            QualificationRequirement.objects.bulk_create(built)
            changed.append("requirements")
        if rows is not None:
            _tasks_replace(batch, rows)
            changed.append("input rows")
        audit_record(actor=actor, action="batch.edited", target=batch, after={"fields": sorted(changed)})
    return batch


def batch_delete(*, batch: Batch, actor: User) -> None:
    """Deletes a draft (nothing was ever reserved or shown to workers) with its input rows
    and requirements; any other batch is ``invalid_state`` (409) and stays."""
    _require_staff(actor, batch.organisation)
    with transaction.atomic():
        batch = _lock_batch(batch)
        BATCH.target(batch.status, "deleted")
        audit_record(
            actor=actor, action="batch.deleted", target=batch, before={"title": batch.title, "status": batch.status}
        )
        for permission in BATCH_PERMISSIONS:
            remove_perm(permission, batch.organisation.staff_group, batch)
        batch.delete()


def batch_clone(*, batch: Batch, actor: User, copy_rows: bool = False, sandbox: bool | None = None) -> Batch:
    """A new draft with every field of ``batch`` (any state: "run again"), its input rows
    too when ``copy_rows``; new rows are uploaded to it as to any draft. The copy is a
    sandbox batch as ``batch`` is, unless ``sandbox`` says otherwise (a sandbox batch tested,
    then run for real). It is checked against today's rules like a new batch, and refused as one."""
    values = batch_fields(batch)
    with transaction.atomic():
        clone = batch_create(
            organisation=batch.organisation,
            actor=actor,
            sandbox=batch.is_sandbox if sandbox is None else sandbox,
            **values,
        )
        if copy_rows:
            Task.objects.bulk_create(
                [
                    Task(batch=clone, row_number=row_number, input=row, control=control)
                    for row_number, row, control in batch.tasks.order_by("row_number").values_list(
                        "row_number", "input", "control"
                    )
                ],
                batch_size=2000,
            )
            clone.control_share_bps = batch.control_share_bps
            clone.save(update_fields=["control_share_bps"])
        after: dict[str, Any] = {"from_batch": batch.pk, "rows": copy_rows}
        if clone.is_sandbox != batch.is_sandbox:
            after["sandbox"] = clone.is_sandbox
        audit_record(actor=actor, action="batch.cloned", target=clone, after=after)
    return clone


TEMPLATE_FIELDS = ("name", "description", "template_html", "external_url")


def _template_fields_clean(
    organisation: Organisation, values: dict[str, str], *, template: TaskTemplate | None = None
) -> dict[str, str]:
    """A library template's fields checked and cleaned; ``invalid`` naming every bad field.
    The name is unique in the library (``template`` itself excepted, when editing it)."""
    fields: dict[str, list[str]] = {}
    name = str(values.get("name", "")).strip()
    description = str(values.get("description", "")).strip()
    template_html = str(values.get("template_html", ""))
    external_url = str(values.get("external_url", "")).strip()
    taken = TaskTemplate.objects.filter(organisation=organisation, name=name)
    if template is not None:
        taken = taken.exclude(pk=template.pk)
    if not name:
        fields["name"] = [_("Give the template a name.")]
    elif len(name) > 120:
        fields["name"] = [_("At most 120 characters.")]
    elif taken.exists():
        fields["name"] = [_("Your library already has a template of this name.")]
    if len(description) > 2000:
        fields["description"] = [_("At most 2000 characters.")]
    if bool(template_html.strip()) == bool(external_url):
        fields["template_html"] = [_("Give either an HTML task template or an external task URL, not both.")]
    elif template_html.strip() and not inputs.template_answer_fields(template_html):
        fields["template_html"] = [_("The template has no named form fields (name=...) to answer.")]
    elif external_url and (not external_url.startswith("https://") or len(external_url) > 500):
        fields["external_url"] = [_("The external task URL must start with https:// (at most 500 characters).")]
    if fields:
        raise _invalid(fields)
    return {
        "name": name,
        "description": description,
        "template_html": template_html if template_html.strip() else "",
        "external_url": external_url,
    }


def task_template_save(
    *,
    organisation: Organisation,
    actor: User,
    name: str,
    template_html: str = "",
    external_url: str = "",
    description: str = "",
) -> TaskTemplate:
    """Adds a template to the organisation's library: a form template with named fields, or
    an https external task URL. ``invalid`` on bad input or a name already used."""
    _require_staff(actor, organisation)
    values = _template_fields_clean(
        organisation,
        {"name": name, "description": description, "template_html": template_html, "external_url": external_url},
    )
    with transaction.atomic():
        template = TaskTemplate.objects.create(organisation=organisation, created_by=actor, **values)
        audit_record(actor=actor, action="task_template.saved", target=template, after={"name": values["name"]})
    return template


def task_template_update(*, template: TaskTemplate, actor: User, changes: dict[str, str]) -> TaskTemplate:
    """Edits a template of the organisation's library (any of ``TEMPLATE_FIELDS``; a form
    template may become an external URL and back), checked as ``task_template_save``
    checks a new one. Batches made from it keep their own copy. Refuses with ``invalid``
    (an unknown field, a bad value, a name another template has) and changes nothing then."""
    _require_staff(actor, template.organisation)
    unknown = sorted(set(changes) - set(TEMPLATE_FIELDS))
    if unknown:
        raise _invalid({name: [_("Not a field of a template.")] for name in unknown})
    with transaction.atomic():
        template = TaskTemplate.objects.select_for_update().get(pk=template.pk)
        current = {name: getattr(template, name) for name in TEMPLATE_FIELDS}
        merged = {**current, **changes}
        if "template_html" in changes and str(changes["template_html"]).strip() and "external_url" not in changes:
            merged["external_url"] = ""  # a form template given replaces the URL
        elif "external_url" in changes and str(changes["external_url"]).strip() and "template_html" not in changes:
            merged["template_html"] = ""
        values = _template_fields_clean(template.organisation, merged, template=template)
        changed = [name for name in TEMPLATE_FIELDS if values[name] != current[name]]
        if changed:
            for name in changed:
                setattr(template, name, values[name])
            template.save(update_fields=changed)
            audit_record(
                actor=actor,
                action="task_template.edited",
                target=template,
                before={name: current[name] for name in changed if name != "template_html"},
                after={"fields": changed, "name": template.name},
            )
    return template


def task_template_delete(*, template: TaskTemplate, actor: User) -> None:
    """Removes a template from its organisation's library (batches made from it keep their copy)."""
    _require_staff(actor, template.organisation)
    with transaction.atomic():
        audit_record(actor=actor, action="task_template.deleted", target=template, before={"name": template.name})
        template.delete()
