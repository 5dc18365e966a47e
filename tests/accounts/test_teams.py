"""Requester teams: invitations by e-mail accepted by the invited person, roles that bound
what each member does, the last owner kept, and API keys limited by their scopes on the
REST endpoints and the MTurk endpoint."""

from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts import teams
from accounts.models import Organisation, OrganisationInvitation, OrganisationStaff
from accounts.services import api_key_create
from core.errors import AppError
from core.models import AuditEvent
from mturk import dispatch
from mturk.operations import Caller
from mturk.protocol import CODE_NOT_AUTHORIZED, MTurkError, target_prefix
from notifications.models import Notification
from payments.models import Deposit
from tasks.models import Batch
from tests.factories import OrganisationFactory, UserFactory
from tests.ledger.factories import fund
from tests.tasks.factories import make_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation() -> Organisation:
    organisation = OrganisationFactory()
    fund(organisation, 100_000)
    return organisation


@pytest.fixture
def owner(organisation: Organisation) -> Any:
    return organisation.staff.get(role="owner").user


def join(organisation: Organisation, owner: Any, role: str) -> Any:
    person = UserFactory()
    _invitation, token = teams.invitation_create(organisation=organisation, actor=owner, email=person.email, role=role)
    teams.invitation_accept(token=token, user=person)
    return person


def api_as(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_invitation_is_mailed_and_accepted_by_the_invited_person(
    organisation, owner, django_capture_on_commit_callbacks
) -> None:
    invited = UserFactory(email="Rita@Example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(owner).post(
            f"/api/organisations/{organisation.slug}/members/",
            {"email": "rita@example.org", "role": "reviewer"},
            format="json",
        )
    assert response.status_code == 201, response.content
    # Through the notification service: the account holder's inbox, and an e-mail to the
    # account's address that carries no unsubscribe link (the invitation cannot be turned off).
    assert [m.to for m in mail.outbox] == [["Rita@Example.org"]]
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers
    entry = Notification.objects.get(user=invited, category="team_invitation")
    token = mail.outbox[0].body.split("/invitations/")[1].split("/")[0]
    assert entry.url == f"/invitations/{token}/"
    # Only a hash of the token is stored.
    assert not OrganisationInvitation.objects.filter(token_hash=token).exists()

    stranger = api_as(UserFactory()).post("/api/invitations/accept/", {"token": token}, format="json")
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (403, "wrong_person")
    accepted = api_as(invited).post("/api/invitations/accept/", {"token": token}, format="json")
    assert accepted.status_code == 201, accepted.content
    assert organisation.staff.get(user=invited).role == "reviewer"
    assert invited.groups.filter(pk=organisation.staff_group_id).exists()
    again = api_as(invited).post("/api/invitations/accept/", {"token": token}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "invitation_used")


def test_only_an_owner_invites_changes_roles_and_removes(organisation, owner) -> None:
    reviewer = join(organisation, owner, "reviewer")
    finance = join(organisation, owner, "finance")
    before = list(OrganisationStaff.objects.order_by("id").values_list("user_id", "role"))
    for person in (reviewer, finance):
        client = api_as(person)
        invite = client.post(
            f"/api/organisations/{organisation.slug}/members/", {"email": "x@example.org", "role": "owner"}
        )
        assert invite.status_code == 403
        assert (
            client.patch(
                f"/api/organisations/{organisation.slug}/members/{owner.pk}/", {"role": "finance"}, format="json"
            ).status_code
            == 403
        )
        assert client.delete(f"/api/organisations/{organisation.slug}/members/{owner.pk}/").status_code == 403
    assert list(OrganisationStaff.objects.order_by("id").values_list("user_id", "role")) == before
    assert OrganisationInvitation.objects.count() == 2

    changed = api_as(owner).patch(
        f"/api/organisations/{organisation.slug}/members/{reviewer.pk}/", {"role": "finance"}, format="json"
    )
    assert (changed.status_code, changed.json()["role"]) == (200, "finance")
    removed = api_as(owner).delete(f"/api/organisations/{organisation.slug}/members/{finance.pk}/")
    assert removed.status_code == 204
    assert not organisation.staff.filter(user=finance).exists()
    assert not finance.groups.filter(pk=organisation.staff_group_id).exists()
    assert AuditEvent.objects.filter(action="organisation.member_role_changed").count() == 1


def test_the_last_owner_stays(organisation, owner) -> None:
    for attempt in (
        lambda: teams.member_remove(organisation=organisation, actor=owner, user=owner),
        lambda: teams.member_set_role(organisation=organisation, actor=owner, user=owner, role="reviewer"),
    ):
        with pytest.raises(AppError) as refused:
            attempt()
        assert refused.value.code == "last_owner"
    assert organisation.staff.get(user=owner).role == "owner"
    second = join(organisation, owner, "owner")
    teams.member_remove(organisation=organisation, actor=second, user=owner)
    assert list(organisation.staff.values_list("user_id", flat=True)) == [second.pk]


def test_roles_bound_what_members_do(organisation, owner) -> None:
    reviewer = join(organisation, owner, "reviewer")
    finance = join(organisation, owner, "finance")
    batch = make_batch(organisation)
    slug = organisation.slug

    # Finance funds; a reviewer may not.
    deposit = {"amount": "50.00", "method": "bank"}
    refused = api_as(reviewer).post(f"/api/organisations/{slug}/deposits/", deposit, format="json")
    assert refused.status_code == 403 and "finance" in refused.json()["error"]["message"]
    assert Deposit.objects.filter(organisation=organisation).count() == 0
    assert api_as(finance).post(f"/api/organisations/{slug}/deposits/", deposit, format="json").status_code == 201

    # Reviewers prepare and publish; finance may not.
    refused = api_as(finance).post(f"/api/batches/{batch.pk}/publish/")
    assert refused.status_code == 403
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT
    assert api_as(finance).get(f"/api/batches/{batch.pk}/submissions/").status_code == 403
    published = api_as(reviewer).post(f"/api/batches/{batch.pk}/publish/")
    assert published.status_code == 200, published.content

    # Owners manage keys; reviewers and finance may not.
    for person in (reviewer, finance):
        assert api_as(person).post(f"/api/organisations/{slug}/api-keys/", {"label": "x"}).status_code == 403
    assert api_as(owner).post(f"/api/organisations/{slug}/api-keys/", {"label": "x"}).status_code == 201


def key_client(organisation: Organisation, owner: Any, scopes: list[str]) -> APIClient:
    created = api_key_create(organisation=organisation, created_by=owner, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {created.key.access_key_id}:{created.secret}")
    return client


def test_key_scopes_are_checked_on_the_rest_endpoints(organisation, owner) -> None:
    batch = make_batch(organisation)
    slug = organisation.slug
    review_only = key_client(organisation, owner, ["review"])
    refused = review_only.post(f"/api/batches/{batch.pk}/publish/")
    assert refused.status_code == 403 and "'publish' scope" in refused.json()["error"]["message"]
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT
    assert (
        review_only.post(f"/api/organisations/{slug}/deposits/", {"amount": "1.00", "method": "bank"}).status_code
        == 403
    )
    assert review_only.get(f"/api/batches/{batch.pk}/submissions/").status_code == 200
    # A key never manages keys or members, whatever its scopes.
    everything = key_client(organisation, owner, ["publish", "review", "funds"])
    assert everything.post(f"/api/organisations/{slug}/api-keys/", {"label": "y"}).status_code == 403
    assert (
        everything.post(f"/api/organisations/{slug}/members/", {"email": "k@example.org", "role": "owner"}).status_code
        == 403
    )
    assert everything.post(f"/api/batches/{batch.pk}/publish/").status_code == 200


def test_unknown_or_no_scopes_are_refused(organisation, owner) -> None:
    for scopes in ([], ["admin"]):
        with pytest.raises(AppError) as refused:
            api_key_create(organisation=organisation, created_by=owner, scopes=scopes)
        assert refused.value.code == "invalid"
    assert organisation.api_keys.count() == 0


def test_key_scopes_are_checked_on_the_mturk_endpoint(organisation, owner) -> None:
    created = api_key_create(organisation=organisation, created_by=owner, scopes=["review"])
    caller = Caller(organisation=organisation, actor=owner, key=created.key)
    target = target_prefix() + ".CreateHITType"
    body = {
        "AssignmentDurationInSeconds": 600,
        "Reward": "0.50",
        "Title": "Label",
        "Description": "Label an image.",
    }
    with pytest.raises(MTurkError) as refused:
        dispatch.call(caller=caller, target=target, body=body)
    assert refused.value.turk_code == CODE_NOT_AUTHORIZED
    assert "'publish' scope" in refused.value.message
    # Reads any key may make still answer.
    balance = dispatch.call(caller=caller, target=target_prefix() + ".GetAccountBalance", body={})
    assert "AvailableBalance" in balance
    publisher = api_key_create(organisation=organisation, created_by=owner, scopes=["publish"])
    made = dispatch.call(
        caller=Caller(organisation=organisation, actor=owner, key=publisher.key), target=target, body=body
    )
    assert made["HITTypeId"]


def test_an_invitation_to_an_address_without_an_account_is_mailed_in_the_same_words(
    organisation: Organisation, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        teams.invitation_create(organisation=organisation, actor=owner, email="new@example.org", role="finance")
    assert [m.to for m in mail.outbox] == [["new@example.org"]]
    message = mail.outbox[0]
    assert message.subject == f"Join {organisation.display_name} on the co-op"
    assert f"{owner.username} invites you to {organisation.display_name} as finance" in message.body
    assert "/invitations/" in message.body and "List-Unsubscribe" not in message.extra_headers
    assert not Notification.objects.filter(category="team_invitation").exists()


def test_no_invitation_mail_when_the_invitation_rolls_back(
    organisation: Organisation, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        teams.invitation_create(organisation=organisation, actor=owner, email="new@example.org", role="finance")
        raise RuntimeError("the caller failed")
    assert callbacks == [] and mail.outbox == [] and not OrganisationInvitation.objects.exists()
