"""The requester's pages for drafts, "run again", the template library and the
organisation's defaults (issue 24 points 3 and 7), through the server-rendered forms."""

import pytest
from django.test import Client

from accounts.models import Organisation
from core.models import AuditEvent
from tasks.models import Batch, TaskTemplate
from tests.factories import OrganisationFactory
from tests.frontend.test_pages_refuse import BATCH_FORM
from tests.tasks.factories import make_batch, published_batch

pytestmark = pytest.mark.django_db


def _signed_in(client: Client, requester) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(requester)
    return client


def test_new_external_survey_batch_from_the_form(client: Client, organisation: Organisation, requester) -> None:
    form = {
        **BATCH_FORM,
        "template_html": "",
        "external_url": "https://survey.example.org/s",
        "completion_codes": "CODE-1\nCODE-2",
    }
    response = _signed_in(client, requester).post(f"/org/{organisation.slug}/batches/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = Batch.objects.get()
    assert (batch.external_url, batch.completion_codes, batch.template_html) == (
        "https://survey.example.org/s",
        ["CODE-1", "CODE-2"],
        "",
    )


def test_edit_a_draft_and_refuse_a_published_batchs_terms(client: Client, organisation, requester) -> None:
    draft = make_batch(organisation)
    client = _signed_in(client, requester)
    page = client.get(f"/org/{organisation.slug}/batches/{draft.pk}/edit/")
    assert page.status_code == 200
    assert 'value="0.50"' in page.content.decode()  # the reward as typed, in major units
    response = client.post(
        f"/org/{organisation.slug}/batches/{draft.pk}/edit/",
        {**BATCH_FORM, "title": "Label animals again", "reward": "0.60", "locale_countries": "DE",
         "locale_reason": "German words."},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    draft.refresh_from_db()
    assert (draft.title, draft.reward) == ("Label animals again", 60)
    assert [(r.countries, r.reason) for r in draft.requirements.all()] == [(",DE,", "German words.")]

    live = published_batch(organisation)
    before = Batch.objects.filter(pk=live.pk).values().get()
    refused = client.post(
        f"/org/{organisation.slug}/batches/{live.pk}/edit/", {**BATCH_FORM, "reward": "5.00", "keywords": "x"}
    )
    assert refused.status_code == 200
    assert "workers took its work on these terms" in refused.content.decode()
    assert Batch.objects.filter(pk=live.pk).values().get() == before

    # The same form with only the keywords changed (line breaks as browsers send them: CRLF).
    same_terms = {
        **BATCH_FORM,
        "assignments_per_task": "2",
        "template_html": live.template_html.replace("\n", "\r\n"),
        "description": live.description,
        "purpose": live.purpose,
        "data_use": live.data_use,
        "keywords": "animals, photos",
    }
    saved = client.post(f"/org/{organisation.slug}/batches/{live.pk}/edit/", same_terms)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    live.refresh_from_db()
    assert live.keywords == "animals, photos" and live.template_html == before["template_html"]


def test_delete_a_draft_but_not_a_published_batch(client: Client, organisation, requester) -> None:
    draft, live = make_batch(organisation), published_batch(organisation)
    client = _signed_in(client, requester)
    assert client.post(f"/org/{organisation.slug}/batches/{draft.pk}/delete/").status_code == 302
    assert not Batch.objects.filter(pk=draft.pk).exists()
    client.post(f"/org/{organisation.slug}/batches/{live.pk}/delete/")
    assert Batch.objects.filter(pk=live.pk, status=Batch.Status.PUBLISHED).exists()
    # Someone else's draft: not found, and it stays.
    theirs = make_batch(OrganisationFactory())
    assert client.post(f"/org/{organisation.slug}/batches/{theirs.pk}/delete/").status_code == 404
    assert Batch.objects.filter(pk=theirs.pk).exists()


def test_run_again_makes_a_draft_to_fill_with_new_rows(client: Client, organisation, requester) -> None:
    live = published_batch(organisation)
    response = _signed_in(client, requester).post(f"/org/{organisation.slug}/batches/{live.pk}/clone/")
    clone = Batch.objects.exclude(pk=live.pk).get()
    assert response["Location"] == f"/org/{organisation.slug}/batches/{clone.pk}/"
    assert (clone.status, clone.title, clone.tasks.count()) == (Batch.Status.DRAFT, live.title, 0)


def test_template_library_starters_own_templates_and_new_batch_from_them(
    client: Client, organisation, requester
) -> None:
    client = _signed_in(client, requester)
    page = client.get(f"/org/{organisation.slug}/templates/").content.decode()
    for name in ("Image labelling", "Sentiment", "Transcription", "Survey link"):
        assert name in page
    starter = client.get(f"/org/{organisation.slug}/batches/new/?template=starter:sentiment").content.decode()
    assert "name=&quot;sentiment&quot;" in starter or 'name="sentiment"' in starter.replace("&quot;", '"')

    saved = client.post(
        f"/org/{organisation.slug}/templates/",
        {"name": "Our mood check", "template_html": '<p>${text}</p><form><input name="mood"></form>'},
    )
    assert saved.status_code == 302
    template = TaskTemplate.objects.get(organisation=organisation)
    assert "Our mood check" in client.get(f"/org/{organisation.slug}/templates/").content.decode()
    prefilled = client.get(f"/org/{organisation.slug}/batches/new/?template={template.pk}").content.decode()
    assert "mood" in prefilled
    # Another organisation's template id prefills nothing.
    other = TaskTemplate.objects.create(
        organisation=OrganisationFactory(), name="Secret", template_html="<form><input name='zebra'></form>",
        created_by=requester,
    )  # fmt: skip
    assert "zebra" not in client.get(f"/org/{organisation.slug}/batches/new/?template={other.pk}").content.decode()
    duplicate = client.post(
        f"/org/{organisation.slug}/templates/", {"name": "Our mood check", "external_url": "https://x.example/"}
    )
    assert duplicate.status_code == 200 and "already has a template of this name" in duplicate.content.decode()
    assert client.post(f"/org/{organisation.slug}/templates/{template.pk}/delete/").status_code == 302
    assert not TaskTemplate.objects.filter(organisation=organisation).exists()


def test_settings_page_sets_defaults_that_new_batches_start_from(client: Client, organisation, requester) -> None:
    client = _signed_in(client, requester)
    response = client.post(
        f"/org/{organisation.slug}/settings/",
        {"default_purpose": "Map research.", "default_data_use": "Aggregate only.", "default_location_reason": ""},
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert (organisation.default_purpose, organisation.default_data_use) == ("Map research.", "Aggregate only.")
    assert AuditEvent.objects.filter(action="organisation.defaults_set").count() == 1
    new_batch = client.get(f"/org/{organisation.slug}/batches/new/").content.decode()
    assert "Map research." in new_batch and "Aggregate only." in new_batch
