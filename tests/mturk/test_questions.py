"""MTurk's question and answer XML, without a server."""

import pytest

from mturk import questions
from mturk.protocol import MTurkError
from tasks.inputs import template_answer_fields
from tests.mturk.helpers import ANSWER_KEY, EXTERNAL_QUESTION, HTML_QUESTION, QUESTION_FORM


def test_html_question_becomes_a_template_with_its_form_fields() -> None:
    parsed = questions.parse_question(HTML_QUESTION)
    assert (parsed.kind, parsed.frame_height) == ("html", 600)
    assert template_answer_fields(parsed.template_html) == [
        {"name": "cat", "required": True},
        {"name": "comment", "required": False},
    ]


def test_external_question_needs_https() -> None:
    parsed = questions.parse_question(EXTERNAL_QUESTION)
    assert (parsed.kind, parsed.external_url) == ("external", "https://survey.example.org/task?study=7")
    with pytest.raises(MTurkError, match="https://"):
        questions.parse_question(EXTERNAL_QUESTION.replace("https://", "http://"))


def test_question_form_becomes_named_controls() -> None:
    parsed = questions.parse_question(QUESTION_FORM)
    assert parsed.kind == "form"
    assert [(q.identifier, q.required, q.selections) for q in parsed.form_questions] == [
        ("colour", True, [("blue", "Blue"), ("green", "Green")]),
        ("why", False, None),
    ]
    assert template_answer_fields(parsed.template_html) == [
        {"name": "colour", "required": True},
        {"name": "why", "required": False},
    ]
    assert questions.selection_question_ids(QUESTION_FORM) == {"colour"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("<HTMLQuestion><HTMLContent>", "not well-formed XML"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><HTMLQuestion/>', "must not contain a DOCTYPE"),
        ("<HTMLQuestion><FrameHeight>1</FrameHeight></HTMLQuestion>", "has no HTMLContent"),
        ("<Survey/>", "must be an HTMLQuestion, ExternalQuestion or QuestionForm"),
        ("<QuestionForm><Overview/></QuestionForm>", "has no Question elements"),
        (
            "<QuestionForm><Question><QuestionIdentifier>f</QuestionIdentifier><AnswerSpecification>"
            "<FileUploadAnswer/></AnswerSpecification></Question></QuestionForm>",
            "file upload",
        ),
    ],
)
def test_bad_questions_are_refused_with_a_reason(document: str, message: str) -> None:
    with pytest.raises(MTurkError, match=message):
        questions.parse_question(document)


def test_answers_round_trip_through_question_form_answers() -> None:
    document = questions.answers_xml({"colour": "blue|green", "why": "a < b & c"}, selection_ids={"colour"})
    assert questions.parse_answers_xml(document) == {"colour": "blue|green", "why": "a < b & c"}
    assert "<SelectionIdentifier>blue</SelectionIdentifier><SelectionIdentifier>green</SelectionIdentifier>" in document
    assert "<FreeText>a &lt; b &amp; c</FreeText>" in document


def test_a_qualification_test_and_answer_key_become_questions_and_a_key() -> None:
    test = questions.parse_qualification_test(QUESTION_FORM, ANSWER_KEY)
    assert test.answer_key == {"colour": "blue", "why": "because"}
    assert [q["name"] for q in test.questions] == ["colour", "why"]
    assert test.questions[0]["options"] == ["blue", "green"]
    with pytest.raises(MTurkError, match="no answer for: why"):
        questions.parse_qualification_test(
            QUESTION_FORM, ANSWER_KEY.split("<Question>\n    <QuestionIdentifier>why")[0] + "</AnswerKey>"
        )
