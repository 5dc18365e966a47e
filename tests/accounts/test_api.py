"""Identities through the REST API: registration, auth by session, token and API key,
organisation scoping, name history, and bad input."""

import json
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import ApiKey, Organisation, OrganisationNameChange, User
from core.models import AuditEvent
from tests.factories import PASSWORD, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def key_client(access_key_id: str, secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {access_key_id}:{secret}")
    return client


def test_register_creates_user_and_profile(api: APIClient) -> None:
    response = api.post(
        "/api/auth/register/",
        {"username": "amina", "email": "amina@example.org", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(username="amina")
    assert response.json()["pseudonym"] == user.pseudonym
    assert user.pseudonym.startswith("A") and len(user.pseudonym) == 14
    assert user.worker_profile.country == ""
    assert AuditEvent.objects.filter(action="user.registered", target_id=str(user.pk)).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "x", "email": "not-an-email", "password": PASSWORD}, "email"),
        ({"username": "x", "email": "x@example.org", "password": "123"}, "password"),
        ({"username": "x", "email": "x@example.org", "password": PASSWORD, "is_staff": True}, "is_staff"),
        ({"username": ["x"], "email": "x@example.org", "password": PASSWORD}, "username"),
    ],
)
def test_register_refuses_bad_input_and_creates_nothing(api: APIClient, body: dict, field: str) -> None:
    response = api.post("/api/auth/register/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert User.objects.count() == 0


def test_register_duplicate_email_is_refused(api: APIClient, worker: User) -> None:
    response = api.post(
        "/api/auth/register/", {"username": "other", "email": worker.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]
    assert User.objects.count() == 1


def test_malformed_json_is_a_clear_400(api: APIClient) -> None:
    response = api.post("/api/auth/register/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    assert User.objects.count() == 0


def test_oversize_body_is_refused_with_413(api: APIClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"username": "x" * 2000, "email": "x@example.org", "password": PASSWORD})
    response = api.post("/api/auth/register/", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert User.objects.count() == 0


def test_anonymous_is_refused(api: APIClient) -> None:
    response = api.get("/api/me/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_session_and_token_auth(api: APIClient, worker: User) -> None:
    assert api.login(username=worker.username, password=PASSWORD)
    assert api.get("/api/me/").json()["username"] == worker.username
    api.logout()
    token = api.post("/api/auth/token/", {"username": worker.username, "password": PASSWORD}, format="json")
    assert token.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api.get("/api/me/").json()["username"] == worker.username


def test_bad_password_for_token_is_refused(api: APIClient, worker: User) -> None:
    response = api.post("/api/auth/token/", {"username": worker.username, "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_api_key_lifecycle(api: APIClient, organisation: Organisation, requester: User) -> None:
    api.force_authenticate(requester)
    created = api.post(f"/api/organisations/{organisation.slug}/api-keys/", {"label": "scripts"}, format="json")
    assert created.status_code == 201
    body = created.json()
    key = ApiKey.objects.get(access_key_id=body["access_key_id"])
    # Never stored in clear.
    assert body["secret_access_key"] not in (key.secret_hash, key.secret_encrypted)

    client = key_client(body["access_key_id"], body["secret_access_key"])
    listed = client.get("/api/organisations/")
    assert listed.status_code == 200
    assert [row["slug"] for row in listed.json()] == [organisation.slug]
    assert client.get(f"/api/organisations/{organisation.slug}/").status_code == 200
    # The key is the organisation, never the person who made it.
    me = client.get("/api/me/")
    assert me.status_code == 403 and me.json()["error"]["code"] == "organisation_key_refused"

    wrong = key_client(body["access_key_id"], "not-the-secret")
    assert wrong.get("/api/me/").status_code in (401, 403)

    revoked = api.post(f"/api/organisations/{organisation.slug}/api-keys/{key.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    refused = client.get("/api/organisations/")
    assert refused.status_code in (401, 403)
    assert refused.json()["error"]["code"] == "authentication_failed"


def test_api_key_stops_working_when_its_creator_leaves_the_staff(organisation: Organisation, requester: User) -> None:
    from accounts import services

    created = services.api_key_create(organisation=organisation, created_by=requester)
    client = key_client(created.key.access_key_id, created.secret)
    assert client.get("/api/organisations/").status_code == 200
    services.organisation_staff_remove(organisation=organisation, user=requester, actor=requester)
    assert client.get("/api/organisations/").json()["error"]["code"] == "authentication_failed"


def test_api_key_is_limited_to_its_organisation(requester: User, organisation: Organisation) -> None:
    from accounts import services

    second = OrganisationFactory(owner=requester)
    created = services.api_key_create(organisation=organisation, created_by=requester)
    client = key_client(created.key.access_key_id, created.secret)
    assert client.get(f"/api/organisations/{second.slug}/").status_code == 404
    assert [o["slug"] for o in client.get("/api/organisations/").json()] == [organisation.slug]


def test_other_organisations_are_invisible_and_unchanged(api: APIClient, organisation: Organisation) -> None:
    outsider_org = OrganisationFactory()
    outsider = outsider_org.staff.get().user
    api.force_authenticate(outsider)
    assert api.get(f"/api/organisations/{organisation.slug}/").status_code == 404
    patch = api.patch(f"/api/organisations/{organisation.slug}/", {"display_name": "Hijacked"}, format="json")
    assert patch.status_code == 404
    assert api.get(f"/api/organisations/{organisation.slug}/api-keys/").status_code == 404
    assert api.post(f"/api/organisations/{organisation.slug}/api-keys/", {}, format="json").status_code == 404
    organisation.refresh_from_db()
    assert organisation.display_name != "Hijacked"
    assert not OrganisationNameChange.objects.filter(organisation=organisation).exists()
    assert not ApiKey.objects.filter(organisation=organisation).exists()


def test_worker_cannot_see_an_organisation(api: APIClient, worker: User, organisation: Organisation) -> None:
    api.force_authenticate(worker)
    assert api.get(f"/api/organisations/{organisation.slug}/").status_code == 404


def test_name_changes_are_kept_and_public(api: APIClient, organisation: Organisation, requester: User) -> None:
    original = organisation.display_name
    api.force_authenticate(requester)
    assert (
        api.patch(
            f"/api/organisations/{organisation.slug}/", {"display_name": "Renamed Lab"}, format="json"
        ).status_code
        == 200
    )
    assert (
        api.patch(
            f"/api/organisations/{organisation.slug}/", {"display_name": "Fresh Start"}, format="json"
        ).status_code
        == 200
    )
    # The founding rule allows two changes a year.
    third = api.patch(f"/api/organisations/{organisation.slug}/", {"display_name": "Third"}, format="json")
    assert third.status_code == 409
    assert third.json()["error"]["code"] == "rename_limit"

    public = APIClient()
    public.force_authenticate(UserFactory())
    page = public.get(f"/api/requesters/{organisation.slug}/").json()
    assert page["display_name"] == "Fresh Start"
    assert [(c["old_name"], c["new_name"]) for c in page["name_history"]] == [
        (original, "Renamed Lab"),
        ("Renamed Lab", "Fresh Start"),
    ]


def test_profile_edits_keep_history(api: APIClient, worker: User) -> None:
    api.force_authenticate(worker)
    assert api.patch("/api/profile/", {"country": "ke", "languages": ["sw", "en"]}, format="json").status_code == 200
    assert api.patch("/api/profile/", {"country": "VE"}, format="json").status_code == 200
    history = api.get("/api/profile/history/").json()
    assert [(h["field"], h["old_value"], h["new_value"]) for h in history] == [
        ("country", "", "KE"),
        ("languages", [], ["sw", "en"]),
        ("country", "KE", "VE"),
    ]
    bad = api.patch("/api/profile/", {"country": "Venezuela"}, format="json")
    assert bad.status_code == 400
    worker.worker_profile.refresh_from_db()
    assert worker.worker_profile.country == "VE"


def test_membership_join_is_idempotent(api: APIClient, worker: User) -> None:
    api.force_authenticate(worker)
    assert api.post("/api/membership/", {}, format="json").status_code == 201
    assert api.post("/api/membership/", {"juror_opt_in": True}, format="json").json()["juror_opt_in"] is True
    assert api.get("/api/me/").json()["is_member"] is True
    from accounts.models import Membership

    assert Membership.objects.filter(user=worker).count() == 1


def test_create_api_key_command_prints_a_working_pair(organisation: Organisation, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("create_api_key", "--org", organisation.slug)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("AWS_ACCESS_KEY_ID=") and lines[1].startswith("AWS_SECRET_ACCESS_KEY=")
    access_key_id = lines[0].split("=", 1)[1]
    secret = lines[1].split("=", 1)[1]
    assert key_client(access_key_id, secret).get(f"/api/organisations/{organisation.slug}/").status_code == 200


def test_create_api_key_command_unknown_org(db) -> None:  # type: ignore[no-untyped-def]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No organisation"):
        call_command("create_api_key", "--org", "nope")
    assert ApiKey.objects.count() == 0


def test_openapi_schema_is_served(api: APIClient, worker: User) -> None:
    api.force_authenticate(worker)
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    assert "/api/organisations/{slug}/api-keys/" in paths


def test_organisation_access_agrees_with_the_guardian_permission(organisation: Organisation, requester: User) -> None:
    """``access_organisation`` joins on the staff group; guardian's permission check must
    give the same answer for every person and organisation, before and after staff leave."""
    from guardian.shortcuts import get_objects_for_user

    from accounts import selectors, services
    from core.errors import NotFound

    second = OrganisationFactory()
    colleague = UserFactory()
    services.organisation_staff_add(organisation=organisation, user=colleague, actor=requester)
    people = [requester, colleague, second.staff.get().user, UserFactory()]

    def agree() -> int:
        granted = 0
        for person in User.objects.filter(pk__in=[p.pk for p in people]):  # fresh: no permission caches
            for org in (organisation, second):
                guardian_says = get_objects_for_user(
                    person, "accounts.manage_organisation", Organisation.objects.filter(pk=org.pk)
                ).exists()
                assert guardian_says == person.has_perm("accounts.manage_organisation", org)
                try:
                    selectors.access_organisation(user=person, slug=org.slug)
                    allowed = True
                except NotFound:
                    allowed = False
                assert allowed == guardian_says, (person.username, org.slug)
                granted += allowed
        return granted

    assert agree() == 3
    services.organisation_staff_remove(organisation=organisation, user=colleague, actor=requester)
    assert agree() == 2


def test_me_shows_each_role_from_one_query(django_assert_max_num_queries: Any) -> None:
    from django.contrib.auth.models import Group

    from accounts import selectors, services
    from accounts.models import TREASURER_GROUP, Membership
    from tests.factories import MemberFactory

    plain = UserFactory()
    juror = MemberFactory()
    opted_out = MemberFactory(membership__juror_opt_in=False)
    suspended = MemberFactory()
    Membership.objects.filter(user=suspended).update(status=Membership.Status.SUSPENDED)
    treasurer = UserFactory()
    treasurer.groups.add(Group.objects.get_or_create(name=TREASURER_GROUP)[0])
    staff = OrganisationFactory(display_name="Beta").staff.get().user
    services.organisation_staff_add(organisation=OrganisationFactory(display_name="Alpha"), user=staff, actor=staff)
    everything = MemberFactory()  # a juror and treasurer on two organisations' staff: one row each
    everything.groups.add(Group.objects.get(name=TREASURER_GROUP))
    for name in ("Zeta", "Eta"):
        organisation = OrganisationFactory(display_name=name)
        services.organisation_staff_add(organisation=organisation, user=everything, actor=staff)
    expected = {
        plain: (False, False, False, []),
        juror: (True, False, True, []),
        opted_out: (True, False, False, []),
        suspended: (False, False, False, []),
        treasurer: (False, True, False, []),
        staff: (False, False, False, ["alpha", "beta"]),
        everything: (True, True, True, ["eta", "zeta"]),
    }
    for person, (member, is_treasurer, is_juror, slugs) in expected.items():
        with django_assert_max_num_queries(1):
            roles = selectors.user_roles(user=person)
        assert (roles.is_member, roles.is_treasurer, roles.is_juror) == (member, is_treasurer, is_juror)
        assert [o.slug for o in roles.organisations] == slugs
        assert member == selectors.user_is_member(User.objects.get(pk=person.pk))
        assert is_treasurer == selectors.user_is_treasurer(person)
        client = APIClient()
        client.force_authenticate(person)
        me = client.get("/api/me/").json()
        assert (me["is_member"], me["is_treasurer"], me["organisations"]) == (member, is_treasurer, slugs)
