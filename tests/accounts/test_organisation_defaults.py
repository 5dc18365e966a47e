"""An organisation's defaults for purpose, data use and location reason (issue 24 point 7):
``PATCH /api/organisations/{slug}/`` by whoever prepares batches (or a key with the publish
scope); renaming stays with owners; bad input changes nothing."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Organisation
from core.models import AuditEvent
from tests.accounts.test_teams import api_as, join, key_client
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "default_purpose": "Research on how people read maps.",
    "default_data_use": "Kept by our lab; published only in aggregate.",
    "default_location_reason": "The questions are about German street names.",
}


@pytest.fixture
def organisation() -> Organisation:
    return OrganisationFactory()


@pytest.fixture
def owner(organisation: Organisation) -> Any:
    return organisation.staff.get(role="owner").user


def _url(organisation: Organisation) -> str:
    return f"/api/organisations/{organisation.slug}/"


def test_owner_sets_the_defaults_and_reads_them_back(organisation, owner) -> None:
    response = api_as(owner).patch(_url(organisation), DEFAULTS, format="json")
    assert response.status_code == 200, response.content
    assert {name: response.json()[name] for name in DEFAULTS} == DEFAULTS
    organisation.refresh_from_db()
    assert {name: getattr(organisation, name) for name in DEFAULTS} == DEFAULTS
    event = AuditEvent.objects.get(action="organisation.defaults_set")
    assert event.after == DEFAULTS and event.before == dict.fromkeys(DEFAULTS, "")
    assert api_as(owner).get(_url(organisation)).json()["default_purpose"] == DEFAULTS["default_purpose"]

    # One field alone; an empty text clears it.
    cleared = api_as(owner).patch(_url(organisation), {"default_location_reason": ""}, format="json")
    assert cleared.status_code == 200
    organisation.refresh_from_db()
    assert (organisation.default_location_reason, organisation.default_purpose) == ("", DEFAULTS["default_purpose"])


def test_who_may_set_defaults_and_who_may_rename(organisation, owner) -> None:
    reviewer = join(organisation, owner, "reviewer")
    finance = join(organisation, owner, "finance")
    assert api_as(reviewer).patch(_url(organisation), DEFAULTS, format="json").status_code == 200
    assert api_as(finance).patch(_url(organisation), {"default_purpose": "x"}, format="json").status_code == 403
    # Renaming stays an owner's act, also when defaults come along: nothing changes.
    both = api_as(reviewer).patch(_url(organisation), {"display_name": "New", "default_purpose": "y"}, format="json")
    assert both.status_code == 403
    organisation.refresh_from_db()
    assert organisation.default_purpose == DEFAULTS["default_purpose"] and organisation.display_name != "New"

    publisher_key = key_client(organisation, owner, ["publish"])
    assert publisher_key.patch(_url(organisation), {"default_data_use": "z"}, format="json").status_code == 200
    review_key = key_client(organisation, owner, ["review"])
    assert review_key.patch(_url(organisation), {"default_data_use": "w"}, format="json").status_code == 403
    organisation.refresh_from_db()
    assert organisation.default_data_use == "z"

    outsider = api_as(OrganisationFactory().staff.get().user)
    assert outsider.patch(_url(organisation), {"default_data_use": "v"}, format="json").status_code == 404

    renamed = api_as(owner).patch(
        _url(organisation), {"display_name": "Map Lab", "default_purpose": "p"}, format="json"
    )
    assert renamed.status_code == 200, renamed.content
    organisation.refresh_from_db()
    assert (organisation.display_name, organisation.default_purpose) == ("Map Lab", "p")


def test_bad_defaults_change_nothing(organisation, owner) -> None:
    client: APIClient = api_as(owner)
    for body in ({"default_purpose": "x" * 2001}, {"default_purpos": "typo"}, {}):
        response = client.patch(_url(organisation), body, format="json")
        assert response.status_code == 400, (body, response.content)
    organisation.refresh_from_db()
    assert organisation.default_purpose == ""
    assert not AuditEvent.objects.filter(action="organisation.defaults_set").exists()
