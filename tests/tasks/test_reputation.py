"""Requester reputation: worker ratings, measured pay, approval and rejection rates,
overturned rejections and name history, on a public page."""

import pytest

from accounts.models import Organisation, User
from accounts.services import organisation_rename
from tasks import services
from tasks.models import RequesterRating
from tests.factories import UserFactory
from tests.tasks.conftest import Clock, client_for
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.django_db


def test_only_workers_who_submitted_can_rate(worker: User, organisation: Organisation) -> None:
    published_batch(organisation)
    body = {"pay_fairness": 4, "communication": 5, "review_speed": 3}
    response = client_for(worker).post(f"/api/requesters/{organisation.slug}/ratings/", body, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_worked"
    assert RequesterRating.objects.count() == 0


def test_rating_out_of_range_is_refused(worker: User, organisation: Organisation) -> None:
    batch = published_batch(organisation)
    slot = services.assignment_accept(worker=worker, batch=batch)
    services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "y"})
    body = {"pay_fairness": 6, "communication": 0, "review_speed": 3}
    response = client_for(worker).post(f"/api/requesters/{organisation.slug}/ratings/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"pay_fairness", "communication"}
    assert RequesterRating.objects.count() == 0


def test_reputation_page_shows_everything(organisation: Organisation, clock: Clock) -> None:
    owner = organisation.staff.get().user
    batch = published_batch(organisation, assignments_per_task=2)
    workers = [UserFactory() for _ in range(3)]
    slots = []
    for worker in workers:
        slot = services.assignment_accept(worker=worker, batch=batch)
        clock.advance(minutes=2)
        slots.append(services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "y"}))
    services.assignment_approve(actor=owner, assignment=slots[0])
    services.assignment_reject(actor=owner, assignment=slots[1], reason="incomplete", text="Empty.")
    services.assignment_reject(actor=owner, assignment=slots[2], reason="incomplete", text="Empty.")
    services.assignment_settle_outcome(assignment=slots[2], share_bps=10_000)  # overturned on dispute
    for worker, scores in zip(workers[:2], [(5, 4, 3), (1, 2, 3)], strict=True):
        response = client_for(worker).post(
            f"/api/requesters/{organisation.slug}/ratings/",
            dict(zip(("pay_fairness", "communication", "review_speed"), scores, strict=True)),
            format="json",
        )
        assert response.status_code == 200
    first_name = organisation.display_name
    organisation_rename(organisation=organisation, new_name="Renamed Lab", actor=owner)

    page = client_for(UserFactory()).get(f"/api/requesters/{organisation.slug}/reputation/").json()
    assert page["ratings"] == {"count": 2, "pay_fairness": 3.0, "communication": 3.0, "review_speed": 3.0}
    assert page["measured_hourly_pay"] == 1500  # 0.50 for 2 minutes
    assert page["measured_pay_sample"] == 3
    assert (page["approval_rate_bps"], page["rejection_rate_bps"], page["overturned_rejections"]) == (3333, 6666, 1)
    assert [(c["old_name"], c["new_name"]) for c in page["name_history"]] == [(first_name, "Renamed Lab")]
    assert page["display_name"] == "Renamed Lab"
