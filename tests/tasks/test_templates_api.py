"""The template library through the API and its service (issue 24.3): the organisation's own
templates are listed, added, read, edited (every field, validated as a new one) and removed;
the co-op's starters are read; bad edits change nothing; other organisations see nothing."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import organisation_staff_add
from core.errors import AppError
from core.models import AuditEvent
from tasks import services
from tasks.models import TaskTemplate
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks.conftest import client_for

pytestmark = pytest.mark.django_db

MOOD = '<p>${text}</p><form><input name="mood" required></form>'
STARS = '<p>${text}</p><form><select name="stars"><option>1</option><option>5</option></select></form>'


def test_own_templates_through_the_api(requester_api: APIClient, organisation: Organisation) -> None:
    url = f"/api/organisations/{organisation.slug}/templates/"
    created = requester_api.post(url, {"name": "Mood", "template_html": MOOD}, format="json")
    assert created.status_code == 201, created.content
    template_id = created.json()["id"]
    listed = requester_api.get(url).json()
    assert [t["name"] for t in listed["results"]] == ["Mood"] and listed["count"] == 1
    assert requester_api.get(f"{url}{template_id}/").json()["template_html"] == MOOD

    edited = requester_api.patch(
        f"{url}{template_id}/", {"name": "Stars", "description": "Rate it.", "template_html": STARS}, format="json"
    )
    assert edited.status_code == 200, edited.content
    assert {k: edited.json()[k] for k in ("name", "description", "template_html", "external_url")} == {
        "name": "Stars",
        "description": "Rate it.",
        "template_html": STARS,
        "external_url": "",
    }
    # A URL given in place of the form template replaces it, and back.
    survey = requester_api.patch(
        f"{url}{template_id}/", {"external_url": "https://survey.example.org/x"}, format="json"
    )
    assert (survey.json()["template_html"], survey.json()["external_url"]) == ("", "https://survey.example.org/x")
    form_again = requester_api.patch(f"{url}{template_id}/", {"template_html": MOOD}, format="json")
    assert (form_again.json()["template_html"], form_again.json()["external_url"]) == (MOOD, "")
    event = AuditEvent.objects.filter(action="task_template.edited", target_id=str(template_id)).first()
    assert event is not None and "template_html" in event.after["fields"]

    assert requester_api.delete(f"{url}{template_id}/").status_code == 204
    assert requester_api.get(f"{url}{template_id}/").status_code == 404
    assert not TaskTemplate.objects.exists()


def test_bad_template_edits_are_refused_and_change_nothing(
    requester_api: APIClient, organisation: Organisation, requester: User
) -> None:
    url = f"/api/organisations/{organisation.slug}/templates/"
    mood = services.task_template_save(organisation=organisation, actor=requester, name="Mood", template_html=MOOD)
    services.task_template_save(organisation=organisation, actor=requester, name="Stars", template_html=STARS)
    before = TaskTemplate.objects.filter(pk=mood.pk).values().get()
    for body, field in (
        ({"name": "Stars"}, "name"),  # another template's name
        ({"name": "  "}, "name"),
        ({"template_html": "<p>no fields</p>"}, "template_html"),
        ({"template_html": MOOD, "external_url": "https://x.example/"}, "template_html"),  # not both
        ({"external_url": "http://plain.example/"}, "external_url"),
        ({"colour": "red"}, "colour"),  # a typo is an error
    ):
        response = requester_api.patch(f"{url}{mood.pk}/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["error"]["fields"], (body, response.json())
    assert TaskTemplate.objects.filter(pk=mood.pk).values().get() == before
    # Keeping its own name is no clash.
    assert (
        requester_api.patch(f"{url}{mood.pk}/", {"name": "Mood", "description": "d"}, format="json").status_code == 200
    )


def test_only_the_organisations_people_reach_its_templates(organisation: Organisation, requester: User) -> None:
    template = services.task_template_save(organisation=organisation, actor=requester, name="Mood", template_html=MOOD)
    url = f"/api/organisations/{organisation.slug}/templates/{template.pk}/"
    stranger = client_for(UserFactory())
    assert stranger.get(url).status_code == 404
    assert stranger.patch(url, {"name": "Mine"}, format="json").status_code == 404
    finance = UserFactory()
    organisation_staff_add(organisation=organisation, user=finance, role="finance", actor=requester)
    assert client_for(finance).patch(url, {"name": "Mine"}, format="json").status_code == 403
    # Another organisation's template id under our slug: not found.
    other = OrganisationFactory()
    theirs = services.task_template_save(
        organisation=other, actor=other.staff.get().user, name="Theirs", template_html=MOOD
    )
    own = client_for(requester)
    assert own.patch(f"/api/organisations/{organisation.slug}/templates/{theirs.pk}/", {"name": "x"}).status_code == 404
    assert TaskTemplate.objects.get(pk=theirs.pk).name == "Theirs"
    assert TaskTemplate.objects.get(pk=template.pk).name == "Mood"
    # The service itself refuses a person outside the organisation.
    with pytest.raises(AppError):
        services.task_template_update(template=template, actor=UserFactory(), changes={"name": "x"})


def test_starter_templates_are_listed(requester_api: APIClient) -> None:
    starters = requester_api.get("/api/templates/starters/").json()
    assert {s["key"] for s in starters} >= {"image-labelling", "sentiment", "transcription", "survey-link"}
    assert all(s["template_html"] or s["external_url"] for s in starters)
