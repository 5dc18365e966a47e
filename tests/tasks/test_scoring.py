"""Scoring of each answer type against a known answer, and the requester's ways of writing
known answers (control columns, attention-check attributes), with their bad input."""

import pytest

from core.errors import AppError
from tasks.quality.controls import split_control_columns, template_attention_checks
from tasks.quality.scoring import Check, answer_correct, check_problem


@pytest.mark.parametrize(
    ("given", "expected", "tolerance", "correct"),
    [
        # a single option or text: trimmed, any case, spaces collapsed
        (" Yes ", "yes", "", True),
        ("no", "yes", "", False),
        ("New   York", "new york", "", True),
        # text with a tolerance of typing slips (edit distance)
        ("colour", "color", "1", True),
        ("clr", "colour", "1", False),
        ("kitten", "sitting", "3", True),
        # a number, within the tolerance
        ("13", "12.5", "0.5", True),
        ("12,5", "12.5", "", True),
        ("13.1", "12.5", "0.5", False),
        ("3.0", "3", "", True),
        ("three", "3", "", False),
        # several options (a multi-select as stored): the same set, any order
        ("b|a", "a|b", "", True),
        ("a", "a|b", "", False),
        ("a|b|c", "a|b", "", False),
        # no answer at all
        (None, "yes", "", False),
        ("", "yes", "", False),
    ],
)
def test_each_answer_type_is_scored_by_its_rule(
    given: str | None, expected: str, tolerance: str, correct: bool
) -> None:
    assert answer_correct(given=given, check=Check(expected, tolerance)) is correct


@pytest.mark.parametrize(
    ("expected", "tolerance", "problem"),
    [
        ("", "", "The expected answer is empty."),
        ("12", "-1", "The tolerance of a number must be a number, zero or more."),
        ("12", "lots", "The tolerance of a number must be a number, zero or more."),
        ("a|b", "1", "A tolerance cannot apply to several options; leave it empty."),
        ("colour", "21", "The tolerance of a text answer is a whole number of typing slips, 0 to 20."),
        ("colour", "1.5", "The tolerance of a text answer is a whole number of typing slips, 0 to 20."),
        ("colour", "2", ""),
        ("12", "0.5", ""),
    ],
)
def test_a_known_answer_that_cannot_be_used_says_why(expected: str, tolerance: str, problem: str) -> None:
    assert check_problem(Check(expected, tolerance)) == problem


def test_attention_checks_leave_the_template_that_workers_receive() -> None:
    template = (
        '<p>${text}</p><input type="radio" name="sentiment" value="pos">'
        '<label>To show you read this, type blue: <input name="attention" data-expected="Blue" '
        "data-tolerance='1'></label>"
    )
    cleaned, checks, errors = template_attention_checks(template)
    assert errors == {}
    assert checks == {"attention": {"expected": "Blue", "tolerance": "1"}}
    assert "Blue" not in cleaned and "data-expected" not in cleaned and "data-tolerance" not in cleaned
    assert '<input name="attention">' in cleaned and 'name="sentiment"' in cleaned


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ('<input data-expected="x">', "An attention check (data-expected) needs a name= attribute."),
        ('<input name="a" data-expected="">', "The attention check 'a' has no expected answer (data-expected)."),
        ('<input name="a" data-expected="3" data-tolerance="x">', "Attention check 'a': The tolerance of a number"),
    ],
)
def test_a_malformed_attention_check_is_a_template_error(tag: str, message: str) -> None:
    _cleaned, checks, errors = template_attention_checks(tag)
    assert checks == {} and errors["template_html"][0].startswith(message)


FIELDS = [{"name": "answer", "required": True}, {"name": "count", "required": False}]


def test_control_columns_leave_the_rows_workers_see() -> None:
    rows = [
        {"animal": "cat", "_expected_answer": "yes", "_expected_count": "", "_tolerance_count": ""},
        {"animal": "dog", "_expected_answer": "", "_expected_count": "4", "_tolerance_count": "1"},
        {"animal": "fox", "_expected_answer": "", "_expected_count": "", "_tolerance_count": ""},
    ]
    assert split_control_columns(rows, FIELDS) == [
        ({"animal": "cat"}, {"answer": {"expected": "yes", "tolerance": ""}}),
        ({"animal": "dog"}, {"count": {"expected": "4", "tolerance": "1"}}),
        ({"animal": "fox"}, {}),
    ]


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ({"_expected_colour": "red"}, "_expected_colour", "The template has no answer field 'colour'."),
        ({"_tolerance_count": "1", "_expected_count": ""}, "_tolerance_count", "A tolerance without an expected"),
        ({"_expected_count": "4", "_tolerance_count": "x"}, "_expected_count", "The tolerance of a number"),
    ],
)
def test_bad_control_columns_are_refused_row_by_row(row: dict[str, str], column: str, message: str) -> None:
    with pytest.raises(AppError) as refused:
        split_control_columns([{"animal": "cat"}, {"animal": "dog", **row}], FIELDS)
    assert refused.value.code == "invalid_input_file"
    error = refused.value.details["errors"][0]
    assert (error["row"], error["column"]) == (2, column) and error["message"].startswith(message)
