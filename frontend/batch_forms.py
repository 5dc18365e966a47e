"""Forms of the draft, template-library, organisation-defaults and survey pages (issue 24):
the batch form with an external task URL and completion codes beside the template."""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from core.money import typed_text
from frontend.forms import BatchForm, PageForm
from tasks.models import Batch, DispatchMode, Qualification, QualificationRequirement, TaskTemplate
from tasks.quality import controls
from tasks.starter_templates import starter_template


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class BatchEditForm(BatchForm):
    """A batch's every field: a form template or an external task URL, and for an external
    survey the completion codes it shows at its end (one, or one a line)."""

    template_html = forms.CharField(
        label=_("Task template (HTML)"),
        required=False,
        widget=forms.Textarea(attrs={"class": "code", "spellcheck": "false"}),
        help_text=_("A form with named fields; ${column} is filled from each input row. Or give an external URL."),
    )
    external_url = forms.CharField(
        label=_("External task URL (survey link)"),
        required=False,
        max_length=500,
        help_text=_(
            "Instead of a template: your survey's https address. It receives assignmentId, hitId, workerId and "
            "turkSubmitTo as on MTurk."
        ),
    )
    completion_codes = forms.CharField(
        label=_("Completion codes (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text=_(
            "For a survey that cannot post back: the code it shows at its end, or several, one a line. "
            "A worker who pastes one submits. Workers never see this list."
        ),
    )

    auto_approval_hours = forms.IntegerField(
        label=_("Approve automatically after (hours, optional)"),
        required=False,
        min_value=1,
        help_text=_("Work you have not reviewed by then is approved and paid. Blank: the co-op's rule in force."),
    )
    dispatch_mode = forms.ChoiceField(
        label=_("How the slots open"),
        required=False,
        initial=DispatchMode.AUTO,
        choices=[
            (DispatchMode.AUTO, _("Automatically: small batches all at once, larger ones in waves")),
            (DispatchMode.WAVES, _("In waves, with a lottery weighted towards workers who earned less lately")),
            (DispatchMode.ALL_AT_ONCE, _("All at once, where the co-op's rule allows it")),
        ],
    )
    min_approval_rate_percent = forms.DecimalField(
        label=_("Only workers with an approval rate of at least (%, optional)"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    min_approved_count = forms.IntegerField(
        label=_("Only workers with at least this many approved tasks (optional)"), required=False, min_value=0
    )
    qualifications = forms.MultipleChoiceField(
        label=_("Only workers holding these qualifications"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[],
    )

    field_order = [
        "title", "description", "purpose", "data_use", "content_warnings", "keywords", "reward",
        "assignments_per_task", "estimated_minutes", "time_allotted_minutes", "lifetime_hours",
        "auto_approval_hours", "dispatch_mode",
        "template_html", "external_url", "completion_codes", "input_file", "locale_countries", "locale_reason",
        "min_approval_rate_percent", "min_approved_count", "qualifications",
    ]  # fmt: skip

    # Form fields -> the service's field each one sets (others keep their name).
    SERVICE_FIELDS: dict[str, tuple[str, ...]] = {
        "control_threshold_percent": ("control_threshold_bps",),
        "locale_countries": ("requirements",),
        "locale_reason": ("requirements",),
        "min_approval_rate_percent": ("requirements",),
        "min_approved_count": ("requirements",),
        "qualifications": ("requirements",),
        "template_html": ("template_html", "attention_checks"),
        "input_file": (),
    }

    def __init__(self, *args: Any, organisation: Organisation, batch: Batch | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = batch
        owned = Qualification.objects.filter(organisation=organisation).order_by("name", "id")
        cast(forms.MultipleChoiceField, self.fields["qualifications"]).choices = [
            # A sandbox one is named so: a real batch refuses it (tasks.services.batches).
            (str(qualification.pk), _("%(name)s (sandbox)") % {"name": qualification.name})
            if qualification.is_sandbox
            else (str(qualification.pk), qualification.name)
            for qualification in owned
        ]
        if not owned:
            del self.fields["qualifications"]

    def clean_completion_codes(self) -> list[str]:
        return _lines(self.cleaned_data.get("completion_codes") or "")

    def clean_dispatch_mode(self) -> str:
        return self.cleaned_data.get("dispatch_mode") or DispatchMode.AUTO

    def requirements(self) -> list[dict[str, Any]]:
        """Every requirement the form sets: location, approval rate, approved tasks and the
        organisation's qualifications (a qualification kept from the batch keeps its level)."""
        rows = super().requirements()
        rate = self.cleaned_data.get("min_approval_rate_percent")
        if rate is not None:
            rows.append({"kind": QualificationRequirement.Kind.APPROVAL_RATE, "value": int(rate * 100)})
        count = self.cleaned_data.get("min_approved_count")
        if count is not None:
            rows.append({"kind": QualificationRequirement.Kind.APPROVED_COUNT, "value": count})
        levels = {
            r.qualification_id: r.value
            for r in (self.batch.requirement_rows if self.batch is not None else [])
            if r.kind == QualificationRequirement.Kind.QUALIFICATION
        }
        for chosen in self.cleaned_data.get("qualifications") or []:
            rows.append(
                {
                    "kind": QualificationRequirement.Kind.QUALIFICATION,
                    "qualification_id": int(chosen),
                    "value": levels.get(int(chosen), 1),
                }
            )
        return rows

    def batch_values(self) -> dict[str, Any]:
        """The cleaned fields as ``tasks.services.batch_create`` / ``batch_update`` take them.
        The template carries the attention checks (``data-expected``), so only the checks it
        shows are kept, besides any the template cannot show (``kept_checks``)."""
        data = dict(self.cleaned_data)
        for name in ("input_file", "locale_countries", "locale_reason", "control_threshold_percent"):
            data.pop(name, None)
        for name in ("min_approval_rate_percent", "min_approved_count", "qualifications"):
            data.pop(name, None)
        data["requirements"] = self.requirements()
        data["control_threshold_bps"] = self.control_threshold_bps()
        data["control_min_answered"] = data.get("control_min_answered") or 3
        data["attention_checks"] = self.kept_checks()
        return data

    def kept_checks(self) -> dict[str, dict[str, str]]:
        if self.batch is None:
            return {}
        return controls.template_with_attention_checks(self.batch.template_html, self.batch.attention_checks or {})[1]

    def changed_values(self) -> dict[str, Any]:
        """Only what the person changed on the form, as ``batch_update`` takes it: for a
        batch past its draft, whose terms are refused if anything but the keywords changes."""
        values = self.batch_values()
        names = {
            target
            for field in self.changed_data
            for target in self.SERVICE_FIELDS.get(field, (field,))
            if target in values
        }
        return {name: values[name] for name in names}


class OrganisationDefaultsForm(PageForm):
    default_purpose = forms.CharField(
        label=_("Default purpose"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Used for a batch that states none (MTurk code without a 'Purpose:' line). Workers read it."),
    )
    default_data_use = forms.CharField(
        label=_("Default data use"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Used for a batch that states none (no 'Data use:' line)."),
    )
    default_location_reason = forms.CharField(
        label=_("Default reason for a location restriction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Used when a batch limits workers by country without saying why (no 'Location reason:' line)."),
    )


class TaskTemplateForm(PageForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description (optional)"), required=False, max_length=2000)
    template_html = forms.CharField(
        label=_("Task template (HTML)"),
        required=False,
        widget=forms.Textarea(attrs={"class": "code", "spellcheck": "false"}),
    )
    external_url = forms.CharField(label=_("External task URL"), required=False, max_length=500)


class CloneForm(PageForm):
    copy_rows = forms.BooleanField(label=_("Copy the input rows too"), required=False)
    # "real": a real draft from a sandbox batch; "sandbox": a sandbox copy of a real one.
    kind = forms.ChoiceField(choices=[("", ""), ("real", "real"), ("sandbox", "sandbox")], required=False)

    def sandbox(self) -> bool | None:
        kind = self.cleaned_data.get("kind") if self.is_valid() else ""
        return {"real": False, "sandbox": True}.get(kind or "")


class CompletionCodeForm(PageForm):
    code = forms.CharField(
        label=_("Completion code"),
        max_length=200,
        help_text=_("The code the survey showed you at its end. Paste it exactly."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def batch_form_initial(batch: Batch) -> dict[str, Any]:
    """A batch's fields as the batch form shows them (reward in major units, codes a line
    each, the attention checks back in the template, every requirement in its field)."""
    initial: dict[str, Any] = {name: getattr(batch, name) for name in BatchEditForm.base_fields if hasattr(batch, name)}
    initial["reward"] = typed_text(batch.reward, batch.currency)
    initial["completion_codes"] = "\n".join(batch.completion_codes or [])
    initial["template_html"] = controls.template_with_attention_checks(
        batch.template_html, batch.attention_checks or {}
    )[0]
    if batch.control_threshold_bps is not None:
        initial["control_threshold_percent"] = batch.control_threshold_bps / 100
    requirements = batch.requirement_rows
    locale = next((r for r in requirements if r.kind == QualificationRequirement.Kind.LOCALE), None)
    if locale is not None:
        initial["locale_countries"] = ",".join(locale.country_list)
        initial["locale_reason"] = locale.reason
    for requirement in requirements:
        if requirement.kind == QualificationRequirement.Kind.APPROVAL_RATE:
            initial["min_approval_rate_percent"] = Decimal(requirement.value) / 100
        elif requirement.kind == QualificationRequirement.Kind.APPROVED_COUNT:
            initial["min_approved_count"] = requirement.value
    initial["qualifications"] = [
        str(r.qualification_id) for r in requirements if r.kind == QualificationRequirement.Kind.QUALIFICATION
    ]
    return initial


def new_batch_initial(request: HttpRequest, organisation: Organisation) -> dict[str, Any]:
    """A new batch starts from the organisation's defaults and, with ``?template=``, from a
    template of the library (``starter:<key>`` or an own template's id)."""
    initial: dict[str, Any] = {
        "purpose": organisation.default_purpose,
        "data_use": organisation.default_data_use,
        "locale_reason": organisation.default_location_reason,
    }
    chosen = request.GET.get("template", "")
    if chosen.startswith("starter:"):
        starter = starter_template(chosen.removeprefix("starter:"))
        if starter is not None:
            initial.update(template_html=starter.template_html, external_url=starter.external_url)
    elif chosen.isdigit():
        own = TaskTemplate.objects.filter(organisation=organisation, pk=int(chosen)).first()
        if own is not None:
            initial.update(template_html=own.template_html, external_url=own.external_url)
    return initial
