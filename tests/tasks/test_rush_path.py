"""The rush's request path (issue 26, benchmark "Rush"): applying to a wave and accepting
a slot through the API cost a fixed, small number of queries (an upper bound, so that a
regression fails here rather than in the benchmark), and the cheaper reads they use give
the same answers as the full ones.

The bounds count what Django sees in a test, where every transaction is a savepoint (two
statements each; BEGIN and COMMIT are not counted in production). On PostgreSQL the claim
itself is one prepared statement on psycopg's own cursor (``tasks.services.claims``),
which Django does not see; on SQLite the same claim runs through the ORM in several.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.services import organisation_staff_add, organisation_staff_remove, worker_profile_update
from core.errors import AppError
from tasks import dispatch, selectors, services
from tasks.models import Assignment, Batch, WaveApplication
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks.conftest import Clock
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db

TEMPLATE = '<p>${text}</p><input name="label" required>'

POSTGRES = connection.vendor == "postgresql"
SAVEPOINT = 2  # SAVEPOINT and RELEASE around a transaction inside the test's own
# The claim's statements as Django counts them, with the savepoint around it: none but the
# savepoint on PostgreSQL (see the module docstring); on SQLite the ORM's steps (the slots
# held, the live batch, then the open slot, its update, the attempt, the actor, the outbox
# event and the audit row).
CLAIM_TAKES = SAVEPOINT + (0 if POSTGRES else 8)
CLAIM_FINDS_NONE = SAVEPOINT + (0 if POSTGRES else 3)
CLAIM_REFUSED = SAVEPOINT + (0 if POSTGRES else 2)

# Per request, with the token already read (the cache holds it, ``TOKEN_CACHE_SECONDS``):
# the batch row, its requirements, the worker's standing for that batch, and in one
# transaction the open wave (locked, with the batch's status), the worker's slots and
# earnings, the application and its audit row.
APPLY = 2 + 1 + SAVEPOINT + 4
# The batch row, its requirements, the claim, which says at once when only the slots ran out.
ACCEPT_NO_SLOT = 2 + CLAIM_FINDS_NONE
# ... a claim refused, and the standing for that batch to say why.
ACCEPT_REFUSED = 2 + CLAIM_REFUSED + 1
# ... a slot taken, and its task and the worker's reuse choice for the answer.
ACCEPT_TAKEN = 2 + CLAIM_TAKES + 2
# The first request of a token reads it (and its person), and the person's language and
# time zone (notifications.reading); both are cached from then on.
TOKEN = 2


def rows(count: int) -> str:
    return "text\n" + "\n".join(f"sentence {i}" for i in range(count)) + "\n"


def waves_batch(organisation: Organisation, slots: int = 200) -> Batch:
    return published_batch(
        organisation, rows=rows(slots), template_html=TEMPLATE, assignments_per_task=1, dispatch_mode="waves"
    )


def token_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def post(client: APIClient, path: str, status: int) -> dict[str, Any]:
    response = client.post(path, {}, format="json")
    assert response.status_code == status, response.content
    return dict(response.json())


def test_applying_costs_a_fixed_number_of_queries(
    organisation: Organisation, django_assert_max_num_queries: Any
) -> None:
    batch = waves_batch(organisation)
    path = f"/api/tasks/feed/{batch.pk}/apply/"
    post(token_client(UserFactory()), path, 201)  # the rules read are cached from then on, as in production
    for worker in UserFactory.create_batch(3):
        client = token_client(worker)
        with django_assert_max_num_queries(APPLY + TOKEN):
            body = post(client, path, 201)
        assert (body["batch_id"], body["wave"], body["title"]) == (batch.pk, 1, batch.title)
        assert body["weight"] == dispatch.WEIGHT_SCALE and body["outcome"] == WaveApplication.Outcome.PENDING
        with django_assert_max_num_queries(APPLY):  # applying twice: refused at the insert
            assert post(client, path, 409)["error"]["code"] == "already_applied"
    assert WaveApplication.objects.filter(wave__batch=batch).count() == 4


def test_accepting_costs_a_fixed_number_of_queries(
    organisation: Organisation, clock: Clock, django_assert_max_num_queries: Any
) -> None:
    batch = waves_batch(organisation, slots=3)
    path = f"/api/tasks/feed/{batch.pk}/accept/"
    workers = UserFactory.create_batch(4)
    clients = [token_client(worker) for worker in workers]
    post(token_client(UserFactory()), path, 409)  # the rules read are cached from then on, as in production
    for client in clients:  # a script accepting while the batch opens in waves
        with django_assert_max_num_queries(ACCEPT_REFUSED + TOKEN):
            assert post(client, path, 409)["error"]["code"] == "dispatch_waves"
    clock.advance(hours=25)  # past the waves: first come, first served
    for client, worker in zip(clients[:3], workers, strict=False):
        with django_assert_max_num_queries(ACCEPT_TAKEN):
            body = post(client, path, 201)
        assert Assignment.objects.get(pk=body["id"]).worker_id == worker.pk
        assert body["frame"]["srcdoc"].startswith("<p>sentence ") and body["reuse_opted_out"] is False
    with django_assert_max_num_queries(ACCEPT_NO_SLOT):  # every slot is taken
        assert post(clients[3], path, 409)["error"]["code"] == "no_open_slot"


# --- The cheaper reads give the same answers ------------------------------------------------------


def test_the_standing_for_one_batch_gives_the_reasons_the_full_standing_gives(
    organisation: Organisation, clock: Clock
) -> None:
    owner = organisation.staff.get().user
    qualification = services.qualification_create(
        organisation=organisation, actor=owner, name="Birds", description="Granted by hand."
    )
    batches = [
        published_batch(organisation, title="anyone"),
        published_batch(organisation, title="alpine", requirements=[{"kind": "locale", "countries": ["DE"],
                                                                     "reason": "Alpine signs."}]),
        published_batch(organisation, title="veteran", requirements=[{"kind": "approved_count", "value": 1}]),
        published_batch(organisation, title="strict", requirements=[{"kind": "approval_rate", "value": 9_000}]),
        published_batch(organisation, title="birds",
                        requirements=[{"kind": "qualification", "qualification_id": qualification.pk}]),
        published_batch(OrganisationFactory(), title="elsewhere"),
    ]  # fmt: skip
    plain, german, blocked, staff, former, long_gone = UserFactory.create_batch(6)
    worker_profile_update(user=german, changes={"country": "DE"})
    services.qualification_grant(qualification=qualification, worker=german, actor=None)
    services.worker_block(organisation=organisation, actor=owner, worker=blocked, reason="Copied answers.")
    organisation_staff_add(organisation=organisation, user=staff, actor=owner)
    organisation_staff_add(organisation=organisation, user=long_gone, actor=owner)
    organisation_staff_remove(organisation=organisation, user=long_gone, actor=owner)
    clock.advance(days=400)  # longer ago than former_staff_days
    organisation_staff_add(organisation=organisation, user=former, actor=owner)
    organisation_staff_remove(organisation=organisation, user=former, actor=owner)
    seen: set[str] = set()
    for worker in (plain, german, blocked, staff, former, long_gone, owner):
        for batch in selectors.attach_requirements(list(Batch.objects.filter(pk__in=[b.pk for b in batches]))):
            full = selectors.worker_ineligibility(worker=worker, batch=batch)
            scoped = selectors.worker_ineligibility(
                worker=worker, batch=batch, standing=selectors.batch_standing(worker=worker, batch=batch)
            )
            assert scoped == full, (worker.username, batch.title)
            seen.update(full)
    # Every kind of reason came up, so the comparison covered them all.
    for words in ("blocked you", "You work for this requester", "Located in DE", "approved assignment",
                  "The qualification 'Birds'"):  # fmt: skip
        assert any(words in reason for reason in seen), words
    assert not selectors.worker_ineligibility(
        worker=long_gone, batch=batches[0], standing=selectors.batch_standing(worker=long_gone, batch=batches[0])
    )


def test_applicant_figures_count_the_slots_held_and_the_paid_share_of_settlements(
    organisation: Organisation, worker: User
) -> None:
    batch = published_batch(organisation, title="paid", assignments_per_task=1, reward=80)
    slots = [services.assignment_accept(worker=worker, batch=batch) for _ in range(2)]
    Assignment.objects.filter(pk=slots[0].pk).update(status=Assignment.Status.APPROVED, approved_at=batch.published_at)
    Assignment.objects.filter(pk=slots[1].pk).update(
        status=Assignment.Status.SETTLED, finalised_at=batch.published_at, settled_share_bps=3_333
    )
    at = batch.published_at + timedelta(days=1)
    earned = 80 + 80 * 3_333 // 10_000  # the settled share rounded down, as the formula says
    assert dispatch.recent_earnings(worker_id=worker.pk, days=7, at=at) == earned
    assert dispatch.applicant_figures(worker_id=worker.pk, batch_id=batch.pk, days=7, at=at) == (2, earned)
    other = published_batch(organisation, title="other")
    assert dispatch.applicant_figures(worker_id=worker.pk, batch_id=other.pk, days=7, at=at) == (0, earned)
    later = at + timedelta(days=8)  # both decisions fall out of the lookback
    assert dispatch.applicant_figures(worker_id=worker.pk, batch_id=batch.pk, days=7, at=later) == (2, 0)


# --- A batch read before it changed -----------------------------------------------------------------


def test_an_application_with_a_batch_paused_since_it_was_read_is_refused(organisation: Organisation) -> None:
    batch = waves_batch(organisation)
    read = selectors.batch_for_worker(batch_id=batch.pk, lean=True)
    services.batch_pause(batch=batch, actor=organisation.staff.get().user)
    with pytest.raises(AppError) as refused:
        services.wave_apply(worker=UserFactory(), batch=read)  # the copy still says published
    assert refused.value.code == "batch_not_available"
    assert not WaveApplication.objects.exists()


def test_an_accept_with_a_batch_paused_since_it_was_read_is_refused(organisation: Organisation) -> None:
    batch = published_batch(organisation)
    read = selectors.batch_for_worker(batch_id=batch.pk, lean=True)
    services.batch_pause(batch=batch, actor=organisation.staff.get().user)
    with pytest.raises(AppError) as refused:
        services.assignment_accept(worker=UserFactory(), batch=read)  # the copy still says published
    assert refused.value.code == "batch_not_available"
    assert not Assignment.objects.filter(batch=batch, worker__isnull=False).exists()


def test_the_lean_read_is_the_same_batch(organisation: Organisation) -> None:
    batch = published_batch(organisation, requirements=[{"kind": "approved_count", "value": 3}])
    lean = selectors.batch_for_worker(batch_id=batch.pk, lean=True)
    full = selectors.batch_for_worker(batch_id=batch.pk)
    fields = [field.attname for field in Batch._meta.concrete_fields]
    assert [getattr(lean, name) for name in fields] == [getattr(full, name) for name in fields]
    assert [(r.kind, r.value) for r in lean.requirement_rows] == [("approved_count", 3)]
    assert lean.organisation == organisation  # read when asked
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.CANCELLED)
    with pytest.raises(AppError):
        selectors.batch_for_worker(batch_id=batch.pk, lean=True)


# --- The process's copy of the batch being rushed ---------------------------------------------------


def test_the_batch_being_rushed_is_read_once_per_copy(
    organisation: Organisation, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.FEED_SNAPSHOT_SECONDS = 60
    batch = waves_batch(organisation)
    with django_assert_num_queries(2):  # the row and its requirements
        first = selectors.batch_for_worker(batch_id=batch.pk, lean=True)
    with django_assert_num_queries(0):
        assert selectors.batch_for_worker(batch_id=batch.pk, lean=True) is first


def test_a_copy_that_missed_a_pause_or_an_end_still_refuses_and_one_that_missed_a_resume_still_takes(
    organisation: Organisation, settings: Any
) -> None:
    settings.FEED_SNAPSHOT_SECONDS = 60
    owner = organisation.staff.get().user
    waves, open_to_all = waves_batch(organisation), published_batch(organisation, title="all at once")
    for batch in (waves, open_to_all):
        selectors.batch_for_worker(batch_id=batch.pk, lean=True)  # the copy: published
        services.batch_pause(batch=batch, actor=owner)
    client = token_client(UserFactory())
    assert post(client, f"/api/tasks/feed/{waves.pk}/apply/", 409)["error"]["code"] == "batch_not_available"
    assert post(client, f"/api/tasks/feed/{open_to_all.pk}/accept/", 409)["error"]["code"] == "batch_not_available"
    services.batch_cancel(batch=open_to_all, actor=owner)
    assert post(client, f"/api/tasks/feed/{open_to_all.pk}/accept/", 409)["error"]["code"] == "batch_not_available"
    # A copy taken while paused, then the batch resumed: the copy's "paused" is checked again.
    settings.FEED_SNAPSHOT_SECONDS = 0
    paused = selectors.batch_for_worker(batch_id=waves.pk, lean=True)
    services.batch_resume(batch=waves, actor=owner)
    assert services.wave_apply(worker=UserFactory(), batch=paused).wave.batch_id == waves.pk
    assert not Assignment.objects.filter(batch=open_to_all, worker__isnull=False).exists()
    assert WaveApplication.objects.filter(wave__batch=waves).count() == 1
