"""Quality control in a real browser (issue 27, 20.8, 24.5): a requester writes a
qualification test with its answer key and grants and revokes by hand; a worker finds the
test from a batch card, takes it (score and pass mark, never the key), waits for a retake;
the review page shows control accuracy and agreement and rejects under the threshold; the
worker's scores page shows every score with its formula."""

import re

import pytest

from tasks import services as task_services
from tasks.models import Assignment, Qualification, QualificationGrant
from tests.factories import UserFactory
from tests.frontend.conftest import nav
from tests.tasks.factories import published_batch

pytestmark = pytest.mark.browser

QUESTIONS = "\n".join(
    [
        "Which bird hovers? | kestrel; buzzard | kestrel",
        "Forked tail? | kite; buzzard | kite",
        "Largest eagle in Europe? | white-tailed eagle; golden eagle | white-tailed eagle",
    ]
)
KEY = {
    "Which bird hovers?": "kestrel",
    "Forked tail?": "kite",
    "Largest eagle in Europe?": "white-tailed eagle",
}


def test_requester_writes_a_test_and_workers_take_it(open_page, screenshot, organisation, requester) -> None:
    page = open_page(requester)
    page.goto(f"/org/{organisation.slug}/")
    page.get_by_role("link", name="Qualifications").first.click()
    page.get_by_label("Name").fill("Raptor expert")
    page.get_by_label("What it certifies").fill("Tells birds of prey apart.")
    page.get_by_label("Test questions (optional)").fill(QUESTIONS)
    page.get_by_label("Pass mark (%)").fill("100")
    # Bad input first: more questions per attempt than the test has.
    page.get_by_label("Questions per attempt").fill("4")
    page.get_by_role("button", name="Create the qualification").click()
    assert "not enough to draw 4" in page.locator(".has-error").inner_text()
    assert not Qualification.objects.exists()
    page.get_by_label("Questions per attempt").fill("2")
    page.get_by_role("button", name="Create the qualification").click()
    page.wait_for_url(re.compile(r"/qualifications/\d+/$"))
    qualification = Qualification.objects.get()
    assert (qualification.pool_size, qualification.pass_bps, len(qualification.test_questions)) == (2, 10_000, 3)
    page.get_by_text("Questions and answer key").click()
    assert "white-tailed eagle" in page.locator("#answer-key").inner_text()  # the team sees its key
    screenshot(page, "qualification")

    # Grant by hand, then revoke.
    helper = UserFactory()
    page.get_by_label("Worker's pseudonym").fill(helper.pseudonym)
    page.get_by_role("button", name="Grant").click()
    assert helper.pseudonym in page.locator("#grants").inner_text()
    page.locator("#grants").get_by_role("button", name="Revoke").click()
    page.get_by_text("Nobody holds it yet.").wait_for()
    assert not QualificationGrant.objects.filter(worker=helper).exists()

    batch = published_batch(
        organisation,
        title="Count raptors",
        requirements=[{"kind": "qualification", "qualification_id": qualification.pk}],
    )

    # A worker finds the test from the batch card and passes.
    worker = UserFactory()
    page = open_page(worker)
    page.goto(f"/work/batches/{batch.pk}/")
    page.get_by_role("link", name="Take the test for Raptor expert").click()
    assert "100%" in page.locator("dl.facts").inner_text() and "0 of 3 used" in page.locator("dl.facts").inner_text()
    page.get_by_role("button", name="Start the test").click()
    form = page.locator("#test-form")
    shown = [question for question in KEY if form.get_by_text(question).count()]
    assert len(shown) == 2  # two of the three, drawn for this attempt
    for question in shown:
        form.get_by_role("group", name=question).get_by_label(KEY[question], exact=True).check()
    form.get_by_role("button", name="Submit my answers").click()
    result = page.locator("#test-result").inner_text()
    assert "You scored 100%" in result and "the pass mark is 100%" in result and "Passed" in result
    screenshot(page, "passed")
    assert QualificationGrant.objects.filter(qualification=qualification, worker=worker, by_test=True).exists()

    # Another fails: sees the score and the pass mark, not the answers, and when to retry.
    other = UserFactory()
    page = open_page(other)
    page.goto(f"/work/qualifications/{qualification.pk}/")
    page.get_by_role("button", name="Start the test").click()
    form = page.locator("#test-form")
    for question in [q for q in KEY if form.get_by_text(q).count()]:
        wrong = {"kestrel": "buzzard", "kite": "buzzard", "white-tailed eagle": "golden eagle"}[KEY[question]]
        form.get_by_role("group", name=question).get_by_label(wrong, exact=True).check()
    form.get_by_role("button", name="Submit my answers").click()
    result = page.locator("#test-result").inner_text()
    assert "You scored 0%" in result and "Not passed" in result
    assert "You can take the test again from" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Take the test again").count() == 0
    nav(page, "My scores")
    scores = page.locator("#test-scores").inner_text()
    assert "Raptor expert" in scores and "0%" in scores and "100%" in scores
    screenshot(page, "scores")


TEMPLATE = """
<p>Is this a ${animal}?</p>
<input type="radio" name="answer" value="yes" required> yes
<input type="radio" name="answer" value="no"> no
<label>Type blue: <input name="attention" data-expected="blue"></label>
"""


def test_review_page_shows_accuracy_and_agreement_and_rejects_under_the_threshold(
    open_page, screenshot, organisation, requester
) -> None:
    batch = published_batch(
        organisation,
        title="Spot cats",
        template_html=TEMPLATE,
        rows="animal,_expected_answer\ncat,yes\ndog,no\nfox,\n",
        assignments_per_task=2,
        control_threshold_bps=6000,
        control_min_answered=3,
    )
    careful, careless = UserFactory(), UserFactory()
    for worker, answer, colour in ((careful, None, "blue"), (careless, "no", "red")):
        for task in batch.tasks.order_by("row_number"):
            slot = task_services.assignment_accept(worker=worker, batch=batch, task_id=task.pk)
            given = answer or ("yes" if task.input["animal"] == "cat" else "no")
            task_services.assignment_submit(
                worker=worker, assignment=slot, answers={"answer": given, "attention": colour}
            )

    page = open_page(careless)
    page.goto(f"/work/batches/{batch.pk}/")
    disclosure = page.locator("#quality-disclosure").inner_text()
    assert "66.66% of the tasks are control tasks" in disclosure and "under 60%" in disclosure
    nav(page, "My scores")
    row = page.locator("#control-accuracy tbody tr").inner_text()
    assert row.split("\t") == ["Spot cats", organisation.display_name, "20%", "1 / 5", "60%"]  # 1 of 5 checks right

    page = open_page(requester)
    page.goto(f"/org/{organisation.slug}/batches/{batch.pk}/review/")
    table = page.locator("#control-accuracy").inner_text()
    assert careless.pseudonym in table and "20%" in table and "100%" in table
    assert page.locator(".alpha").first.inner_text() != ""
    screenshot(page, "review")
    page.get_by_role("button", name="Reject work under the threshold").click()
    page.get_by_text("3 submission(s) rejected provisionally").wait_for()
    assert set(Assignment.objects.filter(worker=careless).values_list("status", flat=True)) == {"rejected"}
    assert set(Assignment.objects.filter(worker=careful).values_list("status", flat=True)) == {"submitted"}
