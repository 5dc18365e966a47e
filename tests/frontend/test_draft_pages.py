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


CHECKED = """<p>Is this a ${animal}? <img src="${image_url}"></p>
<form>
  <input type="radio" name="answer" value="yes" required> yes
  <input type="radio" name="answer" value="no"> no
  <label>The sky's colour: <input name="attention" data-expected="blue"></label>
</form>"""


def test_the_edit_page_shows_and_edits_every_field_of_a_draft(client: Client, organisation, requester) -> None:
    from tasks import services

    qualification = services.qualification_create(
        organisation=organisation, actor=requester, name="Bird expert", description="Knows birds."
    )
    draft = make_batch(organisation, template_html=CHECKED)
    client = _signed_in(client, requester)
    page = client.get(f"/org/{organisation.slug}/batches/{draft.pk}/edit/").content.decode()
    # The attention check is shown where it was written, and every setting has its field.
    assert 'data-expected="blue"' in page.replace("&quot;", '"')
    for name in ("auto_approval_hours", "dispatch_mode", "min_approval_rate_percent", "min_approved_count",
                 "qualifications", "locale_countries", "control_threshold_percent", "completion_codes",
                 "reuse_beyond_purpose", "external_url"):  # fmt: skip
        assert f'name="{name}"' in page, name

    response = client.post(
        f"/org/{organisation.slug}/batches/{draft.pk}/edit/",
        {
            **BATCH_FORM,
            "template_html": CHECKED.replace('data-expected="blue"', 'data-expected="grey" data-tolerance=""'),
            "auto_approval_hours": "48",
            "dispatch_mode": "waves",
            "min_approval_rate_percent": "95",
            "min_approved_count": "20",
            "qualifications": [str(qualification.pk)],
            "locale_countries": "DE, AT",
            "locale_reason": "German words.",
            "reuse_beyond_purpose": "on",
            "control_threshold_percent": "80",
            "control_min_answered": "4",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    draft.refresh_from_db()
    assert (draft.auto_approval_hours, draft.dispatch_mode, draft.reuse_beyond_purpose) == (48, "waves", True)
    assert (draft.control_threshold_bps, draft.control_min_answered) == (8_000, 4)
    assert draft.attention_checks == {"attention": {"expected": "grey", "tolerance": ""}}
    assert sorted(draft.requirements.values_list("kind", "value", "countries", "qualification_id")) == [
        ("approval_rate", 9_500, "", None),
        ("approved_count", 20, "", None),
        ("locale", 0, ",AT,DE,", None),
        ("qualification", 1, "", qualification.pk),
    ]

    # The check taken out of the template is gone; clearing the fields clears the requirements.
    response = client.post(
        f"/org/{organisation.slug}/batches/{draft.pk}/edit/",
        {**BATCH_FORM, "template_html": CHECKED.replace(' data-expected="blue"', "")},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    draft.refresh_from_db()
    assert draft.attention_checks == {} and not draft.requirements.exists()
    assert (draft.auto_approval_hours, draft.dispatch_mode) == (None, "auto")


def test_a_published_batchs_page_refuses_each_term_by_name(client: Client, organisation, requester) -> None:
    live = published_batch(
        organisation,
        template_html=CHECKED,
        requirements=[{"kind": "locale", "countries": ["DE"], "reason": "German speakers."}],
    )
    client = _signed_in(client, requester)
    url = f"/org/{organisation.slug}/batches/{live.pk}/edit/"
    page = client.get(url)
    shown = page.context["form"].initial
    unchanged = {name: value for name, value in shown.items() if value is not None and name != "qualifications"}
    unchanged["template_html"] = shown["template_html"].replace("\n", "\r\n")  # as browsers send it
    unchanged["reuse_beyond_purpose"] = ""
    before = Batch.objects.filter(pk=live.pk).values().get()
    for change, words in (
        ({"locale_countries": "AT"}, "requirements"),
        ({"template_html": CHECKED.replace("blue", "azure")}, "attention checks"),
        ({"min_approved_count": "5"}, "requirements"),
        ({"dispatch_mode": "waves"}, "dispatch mode"),
        ({"reward": "0.90"}, "reward"),
    ):
        refused = client.post(url, {**unchanged, **change})
        assert refused.status_code == 200, (change, refused.status_code)
        text = refused.content.decode()
        assert "cannot change: " in text and words in text, change
        assert Batch.objects.filter(pk=live.pk).values().get() == before, change
    saved = client.post(url, {**unchanged, "keywords": "sky, animals"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    live.refresh_from_db()
    assert live.keywords == "sky, animals" and live.attention_checks == before["attention_checks"]


def test_own_templates_are_edited_on_their_page(client: Client, organisation, requester) -> None:
    from tasks import services

    mood = services.task_template_save(
        organisation=organisation, actor=requester, name="Mood", template_html='<form><input name="mood"></form>'
    )
    services.task_template_save(
        organisation=organisation, actor=requester, name="Stars", template_html='<form><input name="stars"></form>'
    )
    client = _signed_in(client, requester)
    library = client.get(f"/org/{organisation.slug}/templates/").content.decode()
    assert f"/org/{organisation.slug}/templates/{mood.pk}/edit/" in library
    url = f"/org/{organisation.slug}/templates/{mood.pk}/edit/"
    assert 'value="Mood"' in client.get(url).content.decode()
    saved = client.post(
        url, {"name": "Mood, v2", "description": "Now with a comment.",
              "template_html": '<form><input name="mood"><textarea name="why"></textarea></form>'},
    )  # fmt: skip
    assert saved.status_code == 302
    mood.refresh_from_db()
    assert (mood.name, mood.description) == ("Mood, v2", "Now with a comment.") and "why" in mood.template_html
    before = TaskTemplate.objects.filter(pk=mood.pk).values().get()
    clash = client.post(url, {"name": "Stars", "template_html": mood.template_html})
    assert clash.status_code == 200 and "already has a template of this name" in clash.content.decode()
    no_fields = client.post(url, {"name": "Mood", "template_html": "<p>nothing to answer</p>"})
    assert no_fields.status_code == 200 and "no named form fields" in no_fields.content.decode()
    assert TaskTemplate.objects.filter(pk=mood.pk).values().get() == before
    theirs = TaskTemplate.objects.create(
        organisation=OrganisationFactory(), name="Theirs", template_html="<form><input name='x'></form>",
        created_by=requester,
    )  # fmt: skip
    assert client.get(f"/org/{organisation.slug}/templates/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/org/{organisation.slug}/templates/{theirs.pk}/edit/", {"name": "Mine"}).status_code == 404
    assert TaskTemplate.objects.get(pk=theirs.pk).name == "Theirs"
