"""Issue 19 point 5: MTurk XML is parsed by defusedxml; no DOCTYPE and no entity gets through."""

import pytest
from botocore.exceptions import ClientError

from ledger.selectors import ledger_check
from mturk import questions
from mturk.models import Hit
from mturk.protocol import MTurkError
from tasks.models import Assignment, Batch
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import HTML_QUESTION, SLOT_COST, available, error_of, hit_params

# The old text filter removed "<![CDATA[ ... ]]>" before looking for "<!DOCTYPE": a fake CDATA
# opener inside a comment hid the DOCTYPE that follows it from the filter, not from the parser.
FAKE_CDATA_BYPASS = (
    '<!-- <![CDATA[ --><!DOCTYPE x [<!ENTITY boom "boomboomboom">]><!-- ]]> -->'
    "<HTMLQuestion><HTMLContent>&boom;</HTMLContent></HTMLQuestion>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    "<HTMLQuestion><HTMLContent>&lol2;</HTMLContent></HTMLQuestion>"
)
EXTERNAL_ENTITY = (
    '<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    "<HTMLQuestion><HTMLContent>&secret;</HTMLContent></HTMLQuestion>"
)


@pytest.mark.parametrize("document", [FAKE_CDATA_BYPASS, BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_doctype_and_entities_are_refused_by_the_parser(document: str) -> None:
    with pytest.raises(MTurkError) as excinfo:
        questions.parse_question(document)
    assert excinfo.value.message == "The Question parameter must not contain a DOCTYPE or entity declarations."


@pytest.mark.parametrize("document", [FAKE_CDATA_BYPASS, EXTERNAL_ENTITY])
def test_answers_and_answer_keys_refuse_entities_too(document: str) -> None:
    with pytest.raises(MTurkError, match="must not contain a DOCTYPE"):
        questions.parse_answers_xml(document)
    with pytest.raises(MTurkError, match="must not contain a DOCTYPE"):
        questions.parse_qualification_test(document, None)


def test_an_html_page_with_its_own_doctype_inside_cdata_is_still_accepted() -> None:
    parsed = questions.parse_question(HTML_QUESTION)
    assert parsed.template_html.startswith("<!DOCTYPE html>")


@live
def test_create_hit_with_the_cdata_bypass_is_a_request_error_and_changes_nothing(mturk, organisation) -> None:
    fund(organisation, 2 * SLOT_COST)
    before = available(organisation)

    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(**hit_params(Question=FAKE_CDATA_BYPASS))

    error = error_of(excinfo)
    assert (error["type"], error["status"]) == ("RequestError", 400)
    assert error["message"].startswith("The Question parameter must not contain a DOCTYPE")
    assert (Batch.objects.count(), Hit.objects.count(), Assignment.objects.count()) == (0, 0, 0)
    assert available(organisation) == before
    assert ledger_check() == []
