"""Drafts and "run again" through the REST API (issue 24 point 3): every field of a draft
edits (template and input rows too), a draft deletes, any batch clones; a published
batch's terms are refused with nothing changed; the template library's own templates."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from core.models import AuditEvent
from tasks import services
from tasks.models import Batch, QualificationRequirement, Task, TaskTemplate
from tests.factories import OrganisationFactory
from tests.tasks.conftest import client_for
from tests.tasks.factories import ROWS_CSV, make_batch, published_batch

pytestmark = pytest.mark.django_db

NEW_TEMPLATE = '<p>${text}</p><form><input name="mood" required></form>'


def test_every_field_of_a_draft_edits(requester_api: APIClient, organisation: Organisation) -> None:
    batch = make_batch(organisation)
    changes = {
        "title": "Label animals, take two",
        "description": "Look closely.",
        "purpose": "A better classifier.",
        "data_use": "Kept in our lab only.",
        "content_warnings": "None known.",
        "keywords": "animals",
        "reward": 80,
        "assignments_per_task": 3,
        "estimated_minutes": 3,
        "time_allotted_minutes": 15,
        "lifetime_hours": 24,
        "auto_approval_hours": 48,
        "requirements": [{"kind": "locale", "countries": ["de", "AT"], "reason": "German dialect words."}],
    }
    response = requester_api.patch(f"/api/batches/{batch.pk}/", changes, format="json")
    assert response.status_code == 200, response.content
    batch.refresh_from_db()
    for name, value in changes.items():
        if name != "requirements":
            assert getattr(batch, name) == value, name
    assert batch.estimated_hourly_pay == 80 * 60 // 3
    (requirement,) = batch.requirements.all()
    assert (requirement.countries, requirement.reason) == (",AT,DE,", "German dialect words.")
    assert batch.tasks.count() == 2  # the rows stay
    event = AuditEvent.objects.filter(action="batch.edited", target_id=str(batch.pk)).get()
    assert "reward" in event.after["fields"] and "requirements" in event.after["fields"]


def test_template_and_rows_change_together_or_not_at_all(requester: User, organisation: Organisation) -> None:
    batch = make_batch(organisation)
    old_rows = list(batch.tasks.values_list("input", flat=True))
    with pytest.raises(Exception) as refused:
        services.batch_update(batch=batch, actor=requester, changes={"template_html": NEW_TEMPLATE})
    assert "${text}" in str(refused.value.fields["template_html"])  # type: ignore[attr-defined]
    batch.refresh_from_db()
    assert "${animal}" in batch.template_html and batch.placeholders == ["animal", "image_url"]
    assert list(batch.tasks.values_list("input", flat=True)) == old_rows

    # A bad file with the new template: refused, nothing changed either.
    with pytest.raises(Exception):
        services.batch_update(
            batch=batch, actor=requester, changes={"template_html": NEW_TEMPLATE}, input_content="other\nx\n"
        )
    batch.refresh_from_db()
    assert batch.placeholders == ["animal", "image_url"]

    services.batch_update(
        batch=batch,
        actor=requester,
        changes={"template_html": NEW_TEMPLATE},
        input_content="text\nI love it\nI hate it\nfine\n",
    )
    batch.refresh_from_db()
    assert batch.placeholders == ["text"]
    assert batch.answer_fields == [{"name": "mood", "required": True}]
    assert list(Task.objects.filter(batch=batch).values_list("input", flat=True)) == [
        {"text": "I love it"},
        {"text": "I hate it"},
        {"text": "fine"},
    ]


def test_a_template_task_can_become_an_external_survey(requester_api: APIClient, organisation: Organisation) -> None:
    batch = make_batch(organisation, rows=None)
    response = requester_api.patch(
        f"/api/batches/{batch.pk}/",
        {"template_html": "", "external_url": "https://survey.example.org/s", "completion_codes": ["K9"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    batch.refresh_from_db()
    assert (batch.template_html, batch.external_url, batch.completion_codes) == (
        "",
        "https://survey.example.org/s",
        ["K9"],
    )
    assert (batch.answer_fields, batch.placeholders) == ([], [])


def test_bad_edits_are_refused_and_change_nothing(requester_api: APIClient, organisation: Organisation) -> None:
    batch = make_batch(organisation)
    before = Batch.objects.filter(pk=batch.pk).values().get()
    for body in (
        {"reward": 0},
        {"title": ""},
        {"estimated_minutes": 20},  # the time allotted (10) would be under the estimate
        {"template_html": "<p>no fields</p>"},
        {"externalurl": "https://x.example"},  # a typo is an error, not ignored
    ):
        response = requester_api.patch(f"/api/batches/{batch.pk}/", body, format="json")
        assert response.status_code == 400, (body, response.content)
    assert Batch.objects.filter(pk=batch.pk).values().get() == before


def test_a_published_batch_keeps_the_terms_workers_took(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(organisation)
    before = Batch.objects.filter(pk=batch.pk).values().get()
    response = requester_api.patch(
        f"/api/batches/{batch.pk}/", {"reward": 500, "purpose": "Something else", "keywords": "x"}, format="json"
    )
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "batch_not_draft"
    assert "reward" in error["message"] and "purpose" in error["message"]
    assert sorted(error["fields"]) == ["purpose", "reward"]
    assert Batch.objects.filter(pk=batch.pk).values().get() == before

    # Sending the same value back is no change; the keywords may change.
    same = requester_api.patch(
        f"/api/batches/{batch.pk}/", {"reward": batch.reward, "keywords": "animals, photos"}, format="json"
    )
    assert same.status_code == 200, same.content
    batch.refresh_from_db()
    assert (batch.reward, batch.keywords) == (before["reward"], "animals, photos")

    rows = requester_api.put(f"/api/batches/{batch.pk}/input/", {"format": "csv", "content": ROWS_CSV}, format="json")
    assert rows.status_code == 409
    assert requester_api.delete(f"/api/batches/{batch.pk}/").status_code == 409
    assert Batch.objects.filter(pk=batch.pk, status=Batch.Status.PUBLISHED).exists()


def test_a_draft_deletes_with_its_rows(requester_api: APIClient, organisation: Organisation) -> None:
    batch = make_batch(
        organisation, requirements=[{"kind": "locale", "countries": ["DE"], "reason": "German speakers."}]
    )
    outsider = client_for(OrganisationFactory().staff.get().user)
    assert outsider.delete(f"/api/batches/{batch.pk}/").status_code == 404
    response = requester_api.delete(f"/api/batches/{batch.pk}/")
    assert response.status_code == 204, response.content
    assert not Batch.objects.filter(pk=batch.pk).exists()
    assert not Task.objects.filter(batch_id=batch.pk).exists()
    assert not QualificationRequirement.objects.filter(batch_id=batch.pk).exists()
    assert AuditEvent.objects.filter(action="batch.deleted", target_id=str(batch.pk)).exists()
    assert requester_api.get(f"/api/batches/{batch.pk}/").status_code == 404


def test_run_again_clones_fields_and_optionally_rows(requester_api: APIClient, organisation: Organisation) -> None:
    batch = published_batch(
        organisation, requirements=[{"kind": "locale", "countries": ["DE"], "reason": "German speakers."}]
    )
    response = requester_api.post(f"/api/batches/{batch.pk}/clone/", {}, format="json")
    assert response.status_code == 201, response.content
    clone = Batch.objects.get(pk=response.json()["id"])
    assert clone.status == Batch.Status.DRAFT and clone.pk != batch.pk
    for name in services.BATCH_EDITABLE_FIELDS:
        if name != "requirements":
            assert getattr(clone, name) == getattr(batch, name), name
    assert [(r.kind, r.countries, r.reason) for r in clone.requirements.all()] == [
        ("locale", ",DE,", "German speakers.")
    ]
    assert clone.tasks.count() == 0  # new rows to come
    assert AuditEvent.objects.filter(action="batch.cloned", target_id=str(clone.pk)).get().after == {
        "from_batch": batch.pk,
        "rows": False,
    }

    with_rows = requester_api.post(f"/api/batches/{batch.pk}/clone/", {"copy_rows": True}, format="json").json()
    copied = Batch.objects.get(pk=with_rows["id"])
    assert list(copied.tasks.values_list("row_number", "input")) == list(batch.tasks.values_list("row_number", "input"))
    assert batch.tasks.count() == 2  # the original is untouched


def test_template_library_keeps_own_templates(requester: User, organisation: Organisation) -> None:
    template = services.task_template_save(
        organisation=organisation, actor=requester, name="Our cats", template_html=NEW_TEMPLATE
    )
    with pytest.raises(Exception) as duplicate:
        services.task_template_save(
            organisation=organisation, actor=requester, name="Our cats", template_html=NEW_TEMPLATE
        )
    assert "name" in duplicate.value.fields  # type: ignore[attr-defined]
    with pytest.raises(Exception):
        services.task_template_save(
            organisation=organisation, actor=requester, name="Both", template_html=NEW_TEMPLATE,
            external_url="https://survey.example.org/",
        )  # fmt: skip
    assert list(TaskTemplate.objects.values_list("name", flat=True)) == ["Our cats"]
    services.task_template_delete(template=template, actor=requester)
    assert not TaskTemplate.objects.exists()


CHECKED_TEMPLATE = """<p>${animal}</p><form>
<input name="answer" required>
<label>Type the colour of the sky: <input name="attention" data-expected="blue"></label>
</form>"""


def test_the_api_edits_every_field_a_draft_has() -> None:
    """Every field ``batch_update`` edits is a field of the API's batch (create and PATCH), and
    the batch's read shows each of them back."""
    from tasks.api import MarketBatchDetailOut, MarketBatchIn

    assert set(services.BATCH_EDITABLE_FIELDS) <= set(MarketBatchIn().fields)
    assert set(services.BATCH_EDITABLE_FIELDS) <= set(MarketBatchDetailOut.Meta.fields)


def test_the_remaining_fields_of_a_draft_edit_too(requester_api: APIClient, organisation: Organisation) -> None:
    batch = make_batch(organisation)
    response = requester_api.patch(
        f"/api/batches/{batch.pk}/",
        {
            "dispatch_mode": "waves",
            "reuse_beyond_purpose": True,
            "control_threshold_bps": 7_500,
            "control_min_answered": 5,
            "template_html": CHECKED_TEMPLATE.replace("${animal}", "${animal} ${image_url}"),
            "requirements": [
                {"kind": "approval_rate", "value": 9_000},
                {"kind": "approved_count", "value": 10},
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    batch.refresh_from_db()
    assert (
        batch.dispatch_mode,
        batch.reuse_beyond_purpose,
        batch.control_threshold_bps,
        batch.control_min_answered,
    ) == (
        "waves",
        True,
        7_500,
        5,
    )
    assert batch.attention_checks == {"attention": {"expected": "blue", "tolerance": ""}}
    assert "data-expected" not in batch.template_html
    assert sorted(batch.requirements.values_list("kind", "value")) == [("approval_rate", 9_000), ("approved_count", 10)]
    assert response.json()["dispatch_mode"] == "waves"

    # Attention checks as data: changed, then removed.
    changed = requester_api.patch(
        f"/api/batches/{batch.pk}/", {"attention_checks": {"attention": {"expected": "azure"}}}, format="json"
    )
    assert changed.status_code == 200, changed.content
    batch.refresh_from_db()
    assert batch.attention_checks == {"attention": {"expected": "azure", "tolerance": ""}}
    cleared = requester_api.patch(f"/api/batches/{batch.pk}/", {"attention_checks": {}}, format="json")
    assert cleared.status_code == 200
    batch.refresh_from_db()
    assert batch.attention_checks == {}
    bad = requester_api.patch(
        f"/api/batches/{batch.pk}/", {"attention_checks": {"attention": {"tolerance": "x"}}}, format="json"
    )
    assert bad.status_code == 400
    batch.refresh_from_db()
    assert batch.attention_checks == {}


def test_a_published_batchs_checks_requirements_and_template_are_refused_by_name(
    requester_api: APIClient, organisation: Organisation
) -> None:
    batch = published_batch(
        organisation,
        template_html=CHECKED_TEMPLATE.replace("${animal}", "${animal} ${image_url}"),
        requirements=[{"kind": "locale", "countries": ["DE"], "reason": "German speakers."}],
    )
    before = Batch.objects.filter(pk=batch.pk).values().get()
    for body, field in (
        ({"attention_checks": {}}, "attention_checks"),
        ({"attention_checks": {"attention": {"expected": "grey"}}}, "attention_checks"),
        ({"template_html": batch.template_html.replace("colour", "color")}, "template_html"),
        ({"requirements": []}, "requirements"),
        ({"requirements": [{"kind": "locale", "countries": ["AT"], "reason": "German speakers."}]}, "requirements"),
        ({"dispatch_mode": "all_at_once"}, "dispatch_mode"),
        ({"completion_codes": ["X"]}, "completion_codes"),
    ):
        response = requester_api.patch(f"/api/batches/{batch.pk}/", body, format="json")
        assert response.status_code == 409, (body, response.content)
        error = response.json()["error"]
        assert error["code"] == "batch_not_draft" and field in error["fields"], (body, error)
        assert "Clone it" in error["message"]
    assert Batch.objects.filter(pk=batch.pk).values().get() == before
    # The same template with its checks written back in, and the same requirement: no change.
    same = requester_api.patch(
        f"/api/batches/{batch.pk}/",
        {
            "template_html": CHECKED_TEMPLATE.replace("${animal}", "${animal} ${image_url}"),
            "requirements": [{"kind": "locale", "countries": ["de"], "reason": "German speakers."}],
            "keywords": "sky",
        },
        format="json",
    )
    assert same.status_code == 200, same.content
