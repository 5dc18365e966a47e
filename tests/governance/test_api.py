"""The governance REST API, including ballot secrecy: no endpoint ever returns
another member's choice, and for secret votes not even staff can read one."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEvent
from governance import jobs, services
from governance.models import Ballot, Proposal
from tests.factories import UserFactory
from tests.governance.factories import members, policy, rule_change, to_voting

pytestmark = pytest.mark.django_db

BASE = "/api/governance"


def test_a_member_proposes_edits_and_opens_discussion(api) -> None:  # type: ignore[no-untyped-def]
    (author,) = members(1)
    api.force_authenticate(author)
    response = api.post(
        f"{BASE}/proposals/",
        {
            "kind": "rule_change",
            "title": "Fair pay",
            "body": "Raise the floor.",
            "rule": "minimum_hourly_wage",
            "proposed_value": 1400,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["rule"], body["rule_class"], body["proposed_value"], body["secret_ballot"]) == (
        "draft",
        "minimum_hourly_wage",
        "economic",
        1400,
        True,
    )
    url = f"{BASE}/proposals/{body['id']}/"
    assert api.patch(url, {"proposed_value": 1450}, format="json").json()["proposed_value"] == 1450
    opened = api.post(url + "discussion/").json()
    assert opened["state"] == "discussion"
    assert opened["discussion_ends_at"] is not None


def test_bad_input_is_refused_with_a_clear_error(api) -> None:  # type: ignore[no-untyped-def]
    (author,) = members(1)
    api.force_authenticate(author)
    count = Proposal.objects.count()
    response = api.post(
        f"{BASE}/proposals/",
        {"kind": "rule_change", "title": "Too much", "body": "x", "rule": "platform_fee_bps", "proposed_value": 9000},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "value_out_of_limits"
    assert error["message"] == "Platform fee must be between 0% and 50%; 90% is outside those limits."
    response = api.post(
        f"{BASE}/proposals/", {"kind": "policy", "title": "t", "body": "b", "colour": "red"}, format="json"
    )
    assert response.json()["error"]["fields"] == {"colour": ["Unknown field."]}
    assert Proposal.objects.count() == count


def test_editing_after_voting_opens_is_refused_through_the_api(api) -> None:  # type: ignore[no-untyped-def]
    (author,) = members(1)
    proposal = to_voting(rule_change(author, "jury_size", 5), timezone.now() - timedelta(days=7))
    api.force_authenticate(author)
    response = api.patch(f"{BASE}/proposals/{proposal.pk}/", {"body": "New text"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"
    proposal.refresh_from_db()
    assert proposal.body == "Because the cost of living went up."


def test_drafts_are_visible_only_to_their_author(api) -> None:  # type: ignore[no-untyped-def]
    author, other = members(2)
    draft = policy(author)
    api.force_authenticate(other)
    assert api.get(f"{BASE}/proposals/{draft.pk}/").status_code == 404
    assert api.get(f"{BASE}/proposals/").json()["count"] == 0
    api.force_authenticate(author)
    assert api.get(f"{BASE}/proposals/").json()["count"] == 1


def test_proposal_list_uses_a_fixed_number_of_queries(api) -> None:  # type: ignore[no-untyped-def]
    (author,) = members(1)
    for _ in range(3):
        services.proposal_open_discussion(proposal=policy(author), actor=author)
    api.force_authenticate(author)
    with CaptureQueriesContext(connection) as few:
        assert api.get(f"{BASE}/proposals/").json()["count"] == 3
    for _ in range(5):
        services.proposal_open_discussion(proposal=rule_change(author, "jury_size", 4), actor=author)
    with CaptureQueriesContext(connection) as more:
        assert api.get(f"{BASE}/proposals/").json()["count"] == 8
    assert len(more) == len(few) <= 4


def test_comments_thread_through_the_api(api) -> None:  # type: ignore[no-untyped-def]
    author, other = members(2)
    proposal = policy(author)
    services.proposal_open_discussion(proposal=proposal, actor=author)
    api.force_authenticate(other)
    first = api.post(f"{BASE}/proposals/{proposal.pk}/comments/", {"body": "Why?"}, format="json").json()
    api.force_authenticate(author)
    reply = api.post(
        f"{BASE}/proposals/{proposal.pk}/comments/", {"body": "Because.", "reply_to": first["id"]}, format="json"
    ).json()
    listed = api.get(f"{BASE}/proposals/{proposal.pk}/comments/").json()["results"]
    assert [(c["author"], c["body"], c["reply_to"]) for c in listed] == [
        (other.username, "Why?", None),
        (author.username, "Because.", first["id"]),
    ]
    assert reply["reply_to"] == first["id"]


def _run_secret_vote(api):  # type: ignore[no-untyped-def]
    voters = members(3)
    proposal = to_voting(rule_change(voters[0], "payout_minimum_floor", 300), timezone.now() - timedelta(days=7))
    receipts = {}
    for voter, choice in zip(voters, ["yes", "no", "yes"], strict=True):
        api.force_authenticate(voter)
        response = api.post(f"{BASE}/proposals/{proposal.pk}/ballot/", {"choice": choice}, format="json")
        assert response.status_code == 201, response.json()
        receipts[voter.pk] = response.json()
    return voters, proposal, receipts


def test_a_secret_vote_through_the_api_end_to_end(api) -> None:  # type: ignore[no-untyped-def]
    voters, proposal, receipts = _run_secret_vote(api)
    first = receipts[voters[0].pk]
    assert first["secret"] is True and len(first["receipt"]) == 64 and first["ballot_secret"]
    api.force_authenticate(voters[0])
    # Changing needs the ballot secret the platform handed out once.
    changed = api.put(
        f"{BASE}/proposals/{proposal.pk}/ballot/",
        {"choice": "no", "ballot_secret": first["ballot_secret"]},
        format="json",
    )
    assert changed.json()["receipt"] == first["receipt"]
    # One's own ballot: that it was cast, never the choice.
    assert api.get(f"{BASE}/proposals/{proposal.pk}/ballot/").json() == {
        "on_roll": True,
        "voted": True,
        "secret": True,
        "choice": None,
    }
    # No running count, no receipts before close.
    refused = api.get(f"{BASE}/proposals/{proposal.pk}/results/").json()["error"]
    assert refused["code"] == "results_not_published"
    assert refused["message"] == "Voting on this proposal is still open; results are published when it closes."
    assert api.get(f"{BASE}/proposals/{proposal.pk}/receipts/").status_code == 409
    jobs.close_due_votes(now=(proposal.voting_closes_at + timedelta(seconds=1)).isoformat())
    result = api.get(f"{BASE}/proposals/{proposal.pk}/results/").json()
    assert {k: result[k] for k in ("state", "roll_size", "turnout", "yes", "no", "abstain", "quorum_met")} == {
        "state": "rejected",
        "roll_size": 3,
        "turnout": 3,
        "yes": 1,
        "no": 2,
        "abstain": 0,
        "quorum_met": True,
    }
    # Each member verifies their own receipt in the published list.
    found = api.get(f"{BASE}/proposals/{proposal.pk}/receipts/", {"receipt": first["receipt"]}).json()["results"]
    assert found == [{"receipt": first["receipt"], "choice": "no"}]
    published = api.get(f"{BASE}/proposals/{proposal.pk}/receipts/").json()
    assert published["count"] == 3
    assert set(published["results"][0]) == {"receipt", "choice"}


def test_no_endpoint_reveals_a_secret_choice_even_to_staff(api) -> None:  # type: ignore[no-untyped-def]
    voters, proposal, _ = _run_secret_vote(api)
    staff = UserFactory(is_staff=True, is_superuser=True)
    api.force_authenticate(staff)
    urls = [
        f"{BASE}/proposals/{proposal.pk}/",
        f"{BASE}/proposals/{proposal.pk}/ballot/",
        f"{BASE}/proposals/{proposal.pk}/results/",
        f"{BASE}/proposals/{proposal.pk}/receipts/",
        f"{BASE}/proposals/",
    ]
    responses = [api.get(url) for url in urls]
    assert [r.status_code for r in responses] == [200, 200, 409, 409, 200]  # not published while voting runs
    jobs.close_due_votes(now=(proposal.voting_closes_at + timedelta(seconds=1)).isoformat())
    published = [api.get(url).content.decode() for url in urls[2:4]]
    for voter in voters:
        for body in published:
            assert voter.username not in body and voter.pseudonym not in body
    assert api.get(f"{BASE}/proposals/{proposal.pk}/ballot/").json() == {
        "on_roll": False,
        "voted": False,
        "secret": True,
        "choice": None,
    }
    # The database itself holds no link from a person to a secret choice.
    assert not Ballot.objects.filter(proposal=proposal, voter__isnull=False).exists()
    for event in AuditEvent.objects.filter(action__startswith="ballot."):
        assert set(event.after) == {"ballot"}


def test_an_open_ballot_is_shown_to_its_voter_only(api) -> None:  # type: ignore[no-untyped-def]
    voter, other = members(2)
    proposal = to_voting(policy(voter, "operational"), timezone.now() - timedelta(days=5))
    api.force_authenticate(voter)
    assert api.post(f"{BASE}/proposals/{proposal.pk}/ballot/", {"choice": "no"}, format="json").status_code == 201
    assert api.get(f"{BASE}/proposals/{proposal.pk}/ballot/").json()["choice"] == "no"
    api.force_authenticate(other)
    assert api.get(f"{BASE}/proposals/{proposal.pk}/ballot/").json() == {
        "on_roll": True,
        "voted": False,
        "secret": False,
        "choice": None,
    }
    staff = UserFactory(is_staff=True)
    api.force_authenticate(staff)
    assert api.get(f"{BASE}/proposals/{proposal.pk}/ballot/").json() == {
        "on_roll": False,
        "voted": False,
        "secret": False,
        "choice": None,
    }
    assert api.get(f"{BASE}/proposals/{proposal.pk}/receipts/").status_code == 409


def test_ballot_refusals_through_the_api(api) -> None:  # type: ignore[no-untyped-def]
    (voter,) = members(1)
    proposal = to_voting(policy(voter, "operational"), timezone.now() - timedelta(days=5))
    api.force_authenticate(voter)
    url = f"{BASE}/proposals/{proposal.pk}/ballot/"
    assert api.post(url, {"choice": "yes"}, format="json").status_code == 201
    twice = api.post(url, {"choice": "no"}, format="json")
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_voted")
    outsider = members(1)[0]
    api.force_authenticate(outsider)
    refused = api.post(url, {"choice": "no"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_on_roll")
    assert list(Ballot.objects.filter(proposal=proposal).values_list("voter_id", "choice")) == [(voter.pk, "yes")]


def test_comment_list_uses_a_fixed_number_of_queries(api) -> None:  # type: ignore[no-untyped-def]
    voters = members(6)
    proposal = policy(voters[0])
    services.proposal_open_discussion(proposal=proposal, actor=voters[0])
    services.comment_add(proposal=proposal, author=voters[1], body="First")
    api.force_authenticate(voters[0])
    url = f"{BASE}/proposals/{proposal.pk}/comments/"
    with CaptureQueriesContext(connection) as one:
        assert api.get(url).json()["count"] == 1
    for voter in voters[2:]:
        services.comment_add(proposal=proposal, author=voter, body=f"From {voter.username}")
    with CaptureQueriesContext(connection) as five:
        assert api.get(url).json()["count"] == 5
    assert len(five) == len(one)
