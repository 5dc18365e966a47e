"""Quality control through the services and the API (issue 27): control tasks and attention
checks disclosed and scored, rejection under the threshold with its evidence, aggregated
export columns, qualification tests drawn from a pool with governed retakes, and bad input."""

from typing import Any

import pytest

from accounts.models import Organisation, User
from core.errors import AppError
from tasks import selectors, services
from tasks.models import Assignment, Batch, Qualification, QualificationGrant, QualificationTestAttempt, Task
from tasks.quality import selectors as quality_selectors
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.tasks.conftest import Clock, client_for
from tests.tasks.factories import batch_fields, make_batch, published_batch

pytestmark = pytest.mark.django_db

TEMPLATE = """
<p>Is this a ${animal}?</p>
<input type="radio" name="answer" value="yes" required> yes
<input type="radio" name="answer" value="no"> no
<label>Type the colour of the sky: <input name="attention" data-expected="blue"></label>
"""
# Two of four rows are controls; the expected answers are columns workers never receive.
ROWS = "animal,_expected_answer\ncat,yes\ndog,no\nfox,\nowl,\n"


def owner(organisation: Organisation) -> User:
    return organisation.staff.get(role="owner").user


def control_batch(organisation: Organisation, **overrides: Any) -> Batch:
    fields = {"template_html": TEMPLATE, "rows": ROWS, "assignments_per_task": 1, **overrides}
    return published_batch(organisation, **fields)


def do_all(batch: Batch, worker: User, answers: dict[str, dict[str, str]]) -> list[Assignment]:
    """The worker takes every task of the batch, answering by the task's animal."""
    done = []
    for task in batch.tasks.order_by("row_number"):
        slot = services.assignment_accept(worker=worker, batch=batch, task_id=task.pk)
        done.append(services.assignment_submit(worker=worker, assignment=slot, answers=answers[task.input["animal"]]))
    return done


GOOD = {
    "cat": {"answer": "yes", "attention": "Blue"},
    "dog": {"answer": "no", "attention": "blue"},
    "fox": {"answer": "yes", "attention": "blue"},
    "owl": {"answer": "no", "attention": "blue"},
}
CARELESS = {name: {"answer": "no", "attention": "green"} for name in GOOD}


def test_controls_are_hidden_from_workers_and_disclosed_on_the_card(organisation: Organisation, worker: User) -> None:
    batch = control_batch(organisation, control_threshold_bps=7000)
    assert batch.control_share_bps == 5000 and batch.attention_checks == {
        "attention": {"expected": "blue", "tolerance": ""}
    }
    # What workers receive: no expected answers in the rows, none in the template.
    assert all("_expected_answer" not in task.input for task in Task.objects.filter(batch=batch))
    assert "blue" not in batch.template_html and "data-expected" not in batch.template_html
    assert Task.objects.get(batch=batch, input={"animal": "cat"}).control == {
        "answer": {"expected": "yes", "tolerance": ""}
    }
    card = client_for(worker).get("/api/tasks/feed/").json()["results"][0]
    assert (card["control_share_bps"], card["attention_checks"], card["control_threshold_bps"]) == (5000, 1, 7000)


def test_each_workers_control_accuracy_is_shown_to_them_and_to_the_requester(organisation: Organisation) -> None:
    batch = control_batch(organisation, assignments_per_task=2)
    good, careless = UserFactory(), UserFactory()
    do_all(batch, good, GOOD)
    do_all(batch, careless, {**CARELESS, "cat": {"answer": "yes", "attention": "green"}})
    scores = quality_selectors.batch_control_scores(batch=batch)
    # Good: 2 controls + 4 attention checks, all right. Careless: cat right; dog right ("no");
    # all four attention checks wrong.
    assert (scores[good.pk].correct, scores[good.pk].answered, scores[good.pk].accuracy_bps) == (6, 6, 10_000)
    assert (scores[careless.pk].correct, scores[careless.pk].answered, scores[careless.pk].accuracy_bps) == (2, 6, 3333)
    own = quality_selectors.worker_control_scores(worker=careless)
    assert [(b.pk, s.accuracy_bps) for b, s in own] == [(batch.pk, 3333)]


def test_work_under_the_threshold_is_rejected_provisionally_with_its_evidence(organisation: Organisation) -> None:
    batch = control_batch(organisation, assignments_per_task=2, control_threshold_bps=7000, control_min_answered=3)
    good, careless = UserFactory(), UserFactory()
    do_all(batch, good, GOOD)
    careless_work = do_all(batch, careless, CARELESS)

    rejected = services.batch_reject_below_control_threshold(actor=owner(organisation), batch=batch)

    assert rejected == 4
    assert set(Assignment.objects.filter(worker=good).values_list("status", flat=True)) == {"submitted"}
    for slot in Assignment.objects.filter(pk__in=[a.pk for a in careless_work]):
        assert (slot.status, slot.rejection_reason) == ("rejected", "failed_gold_question")
        assert "16.66 %" in slot.rejection_text and "70 %" in slot.rejection_text
        evidence = slot.control_evidence
        assert (evidence["accuracy_bps"], evidence["correct"], evidence["answered"], evidence["threshold_bps"]) == (
            1666,
            1,
            6,
            7000,
        )
        assert {(c["kind"], c["field"], c["expected"], c["given"], c["correct"]) for c in evidence["checks"]} >= {
            ("control", "answer", "yes", "no", False),
            ("control", "answer", "no", "no", True),
            ("attention", "attention", "blue", "green", False),
        }
    # Nothing is left to reject: a second run changes nothing.
    assert services.batch_reject_below_control_threshold(actor=owner(organisation), batch=batch) == 0


def test_the_threshold_waits_for_enough_answered_checks(organisation: Organisation) -> None:
    batch = control_batch(organisation, control_threshold_bps=7000, control_min_answered=10)
    careless = UserFactory()
    do_all(batch, careless, CARELESS)
    assert services.batch_reject_below_control_threshold(actor=owner(organisation), batch=batch) == 0
    assert set(Assignment.objects.filter(worker=careless).values_list("status", flat=True)) == {"submitted"}


def test_rejecting_without_a_threshold_is_refused(organisation: Organisation) -> None:
    batch = control_batch(organisation)
    do_all(batch, UserFactory(), CARELESS)
    with pytest.raises(AppError) as refused:
        services.batch_reject_below_control_threshold(actor=owner(organisation), batch=batch)
    assert refused.value.code == "no_control_threshold"
    assert not Assignment.objects.filter(status=Assignment.Status.REJECTED).exists()


@pytest.mark.parametrize("threshold", [-1, 10_001, 15_000])
def test_a_threshold_outside_0_to_100_percent_is_refused_and_nothing_saved(
    organisation: Organisation, threshold: int
) -> None:
    response = client_for(owner(organisation)).post(
        f"/api/organisations/{organisation.slug}/batches/",
        batch_fields(template_html=TEMPLATE, control_threshold_bps=threshold),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["control_threshold_bps"] == [
        "A control threshold is a share from 0 to 100 %."
    ]
    assert not Batch.objects.exists()


def test_controls_without_expected_answers_are_refused_and_nothing_saved(organisation: Organisation) -> None:
    batch = make_batch(organisation, template_html=TEMPLATE, rows="animal\ncat\n")
    with pytest.raises(AppError) as refused:
        services.batch_set_input(
            batch=batch,
            actor=owner(organisation),
            content="animal,_expected_answer,_tolerance_answer\ncat,,1\ndog,no,\n",
            file_format="csv",
        )
    assert refused.value.code == "invalid_input_file"
    assert refused.value.details["errors"][0]["column"] == "_tolerance_answer"
    assert list(batch.tasks.values_list("input", flat=True)) == [{"animal": "cat"}]  # the earlier rows stand
    assert Batch.objects.get(pk=batch.pk).control_share_bps == 0


def test_a_template_may_not_show_a_known_answer(organisation: Organisation) -> None:
    with pytest.raises(AppError) as refused:
        make_batch(organisation, template_html=TEMPLATE + "<p>${_expected_answer}</p>", rows=None)
    assert "a control's known answer" in refused.value.fields["template_html"][0]
    assert not Batch.objects.exists()


def test_the_export_adds_aggregated_columns_beside_the_raw_answers(organisation: Organisation) -> None:
    batch = published_batch(organisation, template_html=TEMPLATE, rows="animal\ncat\ndog\n", assignments_per_task=3)
    answers = {"cat": ["yes", "yes", "no"], "dog": ["no", "no", "no"]}
    workers = [UserFactory() for _ in range(3)]
    for index, worker in enumerate(workers):
        for task in batch.tasks.order_by("row_number"):
            slot = services.assignment_accept(worker=worker, batch=batch, task_id=task.pk)
            services.assignment_submit(
                worker=worker,
                assignment=slot,
                answers={"answer": answers[task.input["animal"]][index], "attention": "blue"},
            )
    services.assignments_approve_many(
        actor=owner(organisation), batch=batch, assignment_ids=list(batch.assignments.values_list("pk", flat=True))
    )
    columns, rows = selectors.batch_results_export(batch=batch)
    assert columns[-8:] == [
        "Aggregated.answer.MajorityVote", "Aggregated.answer.MajorityVoteConfidence",
        "Aggregated.answer.DawidSkene", "Aggregated.answer.DawidSkeneConfidence",
        "Aggregated.attention.MajorityVote", "Aggregated.attention.MajorityVoteConfidence",
        "Aggregated.attention.DawidSkene", "Aggregated.attention.DawidSkeneConfidence",
    ]  # fmt: skip
    by_animal = {row["Input.animal"]: row for row in rows}
    assert (
        by_animal["cat"]["Aggregated.answer.MajorityVote"],
        by_animal["cat"]["Aggregated.answer.MajorityVoteConfidence"],
    ) == ("yes", "0.6667")
    assert (
        by_animal["dog"]["Aggregated.answer.MajorityVote"],
        by_animal["dog"]["Aggregated.answer.MajorityVoteConfidence"],
    ) == ("no", "1.0000")
    assert by_animal["cat"]["Aggregated.answer.DawidSkene"] == "yes" and by_animal["cat"]["Answer.answer"] in (
        "yes",
        "no",
    )
    aggregate = quality_selectors.batch_aggregates(batch=batch)[0]
    # Krippendorff's alpha by hand: o(yes,no)=o(no,yes)=1, n_yes=2, n_no=4, n=6: 1 - 5*2/(2*4*2) = 0.375
    assert aggregate.field == "answer" and aggregate.alpha == pytest.approx(0.375)


def test_a_single_answer_batch_exports_no_aggregated_columns(organisation: Organisation) -> None:
    batch = published_batch(organisation, template_html=TEMPLATE, rows="animal\ncat\n", assignments_per_task=1)
    slot = services.assignment_accept(worker=UserFactory(), batch=batch)
    services.assignment_submit(worker=slot.worker, assignment=slot, answers={"answer": "yes"})
    services.assignment_approve(actor=owner(organisation), assignment=slot)
    columns, _rows = selectors.batch_results_export(batch=batch)
    assert not [column for column in columns if column.startswith("Aggregated.")]


# --- Qualification tests ----------------------------------------------------------------------------

POOL = [{"name": f"q{n}", "question": f"Question {n}?", "options": ["a", "b"]} for n in range(1, 6)]
KEY = {f"q{n}": "a" for n in range(1, 6)}


def pooled_test(organisation: Organisation, **overrides: Any) -> Qualification:
    fields = {"test_questions": POOL, "answer_key": KEY, "pass_bps": 6000, "pool_size": 3, **overrides}
    return services.qualification_create(
        organisation=organisation, actor=owner(organisation), name="Raptors", description="Knows raptors.", **fields
    )


def test_each_attempt_draws_from_the_pool_in_random_order_and_never_shows_the_key(organisation: Organisation) -> None:
    qualification = pooled_test(organisation)
    orders = set()
    for _ in range(12):
        api = client_for(UserFactory())
        opened = api.get(f"/api/qualifications/{qualification.pk}/test/").json()
        names = [question["name"] for question in opened["questions"]]
        assert len(names) == 3 == len(set(names)) and set(names) <= set(KEY)
        assert all(set(question) == {"name", "question", "options"} for question in opened["questions"])
        assert opened["pass_bps"] == 6000 and "answer_key" not in opened
        # Reopening shows the same attempt: no redrawing until a question one knows comes up.
        assert [
            q["name"] for q in api.get(f"/api/qualifications/{qualification.pk}/test/").json()["questions"]
        ] == names
        orders.add(tuple(names))
    assert len(orders) > 1  # 60 possible draws; twelve identical ones would mean no randomness


def test_retakes_wait_for_the_governed_cooldown_and_stop_at_the_governed_count(
    organisation: Organisation, clock: Clock
) -> None:
    qualification = pooled_test(organisation)
    worker = UserFactory()
    api = client_for(worker)
    url = f"/api/qualifications/{qualification.pk}/test/"

    first = api.post(url, {"answers": {name: "b" for name in KEY}}, format="json").json()
    assert (first["score_bps"], first["correct"], first["questions"], first["pass_bps"]) == (0, 0, 3, 6000)
    assert (first["attempts_used"], first["attempts_allowed"], first["granted"]) == (1, 3, False)
    assert '"a"' not in str(first)

    too_soon = api.get(url)
    assert too_soon.status_code == 409 and too_soon.json()["error"]["code"] == "retake_too_soon"
    assert QualificationTestAttempt.objects.filter(worker=worker).count() == 1  # nothing opened

    clock.advance(hours=23, minutes=59)
    assert api.post(url, {"answers": KEY}, format="json").json()["error"]["code"] == "retake_too_soon"
    clock.advance(minutes=2)
    assert api.post(url, {"answers": {n: "b" for n in KEY}}, format="json").json()["attempt"] == 2
    clock.advance(hours=24, minutes=1)
    third = api.post(url, {"answers": {n: "b" for n in KEY}}, format="json").json()
    assert (third["attempt"], third["attempts_used"], third["granted"]) == (3, 3, False)
    clock.advance(days=30)
    exhausted = api.post(url, {"answers": KEY}, format="json")
    assert exhausted.status_code == 409 and exhausted.json()["error"]["code"] == "attempts_exhausted"
    assert not QualificationGrant.objects.filter(worker=worker).exists()


def test_a_pass_grants_and_ends_the_test(organisation: Organisation) -> None:
    qualification = pooled_test(organisation)
    worker = UserFactory()
    attempt = services.qualification_test_take(qualification=qualification, worker=worker, answers=dict(KEY))
    assert (attempt.score_bps, attempt.passed) == (10_000, True)
    assert QualificationGrant.objects.filter(qualification=qualification, worker=worker, by_test=True).exists()
    with pytest.raises(AppError) as refused:
        services.qualification_test_start(qualification=qualification, worker=worker)
    assert refused.value.code == "already_qualified"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"pool_size": 6}, "pool_size", "The test has 5 question(s), not enough to draw 6 for each attempt."),
        ({"pool_size": -1}, "pool_size", "A whole number, zero or more (0: every question in each attempt)."),
        ({"answer_key": {**KEY, "q1": "c"}}, "answer_key", "The answer to 'q1' is not one of its options."),
        ({"answer_key": {"q1": "a"}}, "answer_key", "Give exactly one answer for each question."),
        ({"test_questions": [*POOL[:4], {"name": "q5", "question": " "}]}, "test_questions",
         "Each question needs the question text."),
        ({"pass_bps": 0}, "pass_bps", "Between 1 and 10000."),
    ],
)  # fmt: skip
def test_a_bad_test_is_refused_and_nothing_saved(
    organisation: Organisation, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(AppError) as refused:
        pooled_test(organisation, **overrides)
    assert refused.value.fields[field] == [message]
    assert not Qualification.objects.exists()


def test_malformed_answers_are_refused_and_nothing_scored(organisation: Organisation) -> None:
    qualification = pooled_test(organisation)
    worker = UserFactory()
    api = client_for(worker)
    response = api.post(f"/api/qualifications/{qualification.pk}/test/", {"answers": ["a", "b"]}, format="json")
    assert response.status_code == 400
    with pytest.raises(AppError) as refused:
        services.qualification_test_take(qualification=qualification, worker=worker, answers={"q1": ["a"]})  # type: ignore[dict-item]
    assert refused.value.code == "invalid"
    assert not QualificationTestAttempt.objects.filter(submitted_at__isnull=False).exists()


def test_a_paid_test_the_requester_cannot_fund_opens_no_attempt(organisation: Organisation) -> None:
    qualification = pooled_test(organisation, estimated_minutes=10)
    with pytest.raises(AppError) as refused:
        services.qualification_test_start(qualification=qualification, worker=UserFactory())
    assert refused.value.code == "test_not_funded"
    assert not QualificationTestAttempt.objects.exists()
    fund(organisation, 1000)
    assert services.qualification_test_start(qualification=qualification, worker=UserFactory()).number == 1


def test_editing_and_cloning_a_draft_keep_controls_out_of_the_rows_and_checks_out_of_the_template(
    organisation: Organisation,
) -> None:
    draft = make_batch(organisation, template_html=TEMPLATE, rows=None, control_threshold_bps=5000)
    services.batch_update(
        batch=draft,
        actor=owner(organisation),
        changes={"title": "Spot animals"},
        input_content=ROWS,
        input_format="csv",
    )
    draft = Batch.objects.get(pk=draft.pk)
    assert draft.control_share_bps == 5000 and draft.attention_checks == {
        "attention": {"expected": "blue", "tolerance": ""}
    }
    assert all("_expected_answer" not in row for row in draft.tasks.values_list("input", flat=True))
    assert draft.tasks.exclude(control={}).count() == 2

    clone = services.batch_clone(batch=draft, actor=owner(organisation), copy_rows=True)
    assert (clone.control_threshold_bps, clone.control_share_bps) == (5000, 5000)
    assert clone.attention_checks == draft.attention_checks and "data-expected" not in clone.template_html
    assert sorted(clone.tasks.values_list("control", flat=True), key=str) == sorted(
        draft.tasks.values_list("control", flat=True), key=str
    )


def test_the_api_shows_quality_to_the_requester_and_scores_to_the_worker(organisation: Organisation) -> None:
    batch = control_batch(organisation, assignments_per_task=2, control_threshold_bps=7000)
    good, careless = UserFactory(), UserFactory()
    do_all(batch, good, GOOD)
    do_all(batch, careless, CARELESS)
    requester_api = client_for(owner(organisation))

    quality = requester_api.get(f"/api/batches/{batch.pk}/quality/").json()
    by_worker = {row["worker"]: row for row in quality["control_accuracy"]}
    assert by_worker[careless.pseudonym] == {
        "worker": careless.pseudonym,
        "correct": 1,
        "answered": 6,
        "accuracy_bps": 1666,
    }
    assert by_worker[good.pseudonym]["accuracy_bps"] == 10_000
    answer = next(field for field in quality["aggregates"] if field["field"] == "answer")
    assert answer["items"] == 4 and answer["answers"] == 8 and len(answer["tasks"]) == 4
    # A stranger's key or person sees nothing of it.
    assert client_for(UserFactory()).get(f"/api/batches/{batch.pk}/quality/").status_code == 404

    rejected = requester_api.post(f"/api/batches/{batch.pk}/control-rejections/")
    assert rejected.json() == {"rejected": 4}

    scores = client_for(careless).get("/api/tasks/scores/").json()
    assert [(row["batch"], row["accuracy_bps"], row["threshold_bps"]) for row in scores["control_accuracy"]] == [
        (batch.pk, 1666, 7000)
    ]
    assert "approved ÷ (approved + finally rejected)" in scores["approval_rate"]["formula"]
    assert scores["control_accuracy_formula"].startswith("control accuracy = ")
