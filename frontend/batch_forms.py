"""Forms of the draft, template-library, organisation-defaults and survey pages (issue 24):
the batch form with an external task URL and completion codes beside the template."""

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from core.money import major_text
from frontend.forms import BatchForm, PageForm
from tasks.models import Batch, QualificationRequirement, TaskTemplate
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

    field_order = [
        "title", "description", "purpose", "data_use", "content_warnings", "keywords", "reward",
        "assignments_per_task", "estimated_minutes", "time_allotted_minutes", "lifetime_hours",
        "template_html", "external_url", "completion_codes", "input_file", "locale_countries", "locale_reason",
    ]  # fmt: skip

    def clean_completion_codes(self) -> list[str]:
        return _lines(self.cleaned_data.get("completion_codes") or "")

    def batch_values(self) -> dict[str, Any]:
        """The cleaned fields as ``tasks.services.batch_create`` / ``batch_update`` take them."""
        data = dict(self.cleaned_data)
        data.pop("input_file", None)
        data.pop("locale_countries", None)
        data.pop("locale_reason", None)
        data["requirements"] = self.requirements()
        data.pop("control_threshold_percent", None)
        data["control_threshold_bps"] = self.control_threshold_bps()
        data["control_min_answered"] = data.get("control_min_answered") or 3
        return data


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


class CompletionCodeForm(PageForm):
    code = forms.CharField(
        label=_("Completion code"),
        max_length=200,
        help_text=_("The code the survey showed you at its end. Paste it exactly."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def batch_form_initial(batch: Batch) -> dict[str, Any]:
    """A batch's fields as the batch form shows them (reward in major units, codes a line each)."""
    initial: dict[str, Any] = {name: getattr(batch, name) for name in BatchEditForm.base_fields if hasattr(batch, name)}
    initial["reward"] = major_text(batch.reward, batch.currency)
    initial["completion_codes"] = "\n".join(batch.completion_codes or [])
    if batch.control_threshold_bps is not None:
        initial["control_threshold_percent"] = batch.control_threshold_bps / 100
    locale = next((r for r in batch.requirement_rows if r.kind == QualificationRequirement.Kind.LOCALE), None)
    if locale is not None:
        initial["locale_countries"] = ",".join(locale.country_list)
        initial["locale_reason"] = locale.reason
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
