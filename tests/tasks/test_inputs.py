"""Templates and input files: placeholders, answer fields, per-row errors."""

import pytest

from core.errors import AppError
from tasks import inputs
from tests.tasks.factories import TEMPLATE


def test_placeholders_and_answer_fields_are_read_from_the_template() -> None:
    assert inputs.template_placeholders(TEMPLATE) == ["animal", "image_url"]
    assert inputs.template_answer_fields(TEMPLATE) == [
        {"name": "answer", "required": True},
        {"name": "comment", "required": False},
    ]


def test_render_escapes_input_values() -> None:
    html = inputs.template_render("<b>${name}</b>", {"name": "<script>x</script>"})
    assert html == "<b>&lt;script&gt;x&lt;/script&gt;</b>"


def test_csv_rows_are_parsed() -> None:
    rows = inputs.parse_input_rows(
        content="\ufeffanimal,image_url\ncat,https://a\n\ndog,https://b\n", file_format="csv", placeholders=["animal"]
    )
    assert rows == [{"animal": "cat", "image_url": "https://a"}, {"animal": "dog", "image_url": "https://b"}]


def test_csv_errors_name_row_and_column() -> None:
    content = "animal,image_url\ncat,https://a\n,https://b\ndog\n"
    with pytest.raises(AppError) as caught:
        inputs.parse_input_rows(content=content, file_format="csv", placeholders=["animal", "image_url"])
    assert caught.value.code == "invalid_input_file"
    assert caught.value.details["errors"] == [
        {"row": 3, "column": "", "message": "This row has 1 cells; the header has 2."},
        {"row": 2, "column": "animal", "message": "“animal” is empty; the template needs a value."},
    ]


def test_missing_placeholder_column_is_an_error_on_every_row() -> None:
    with pytest.raises(AppError) as caught:
        inputs.parse_input_rows(content="animal\ncat\ndog\n", file_format="csv", placeholders=["animal", "image_url"])
    assert [(e["row"], e["column"]) for e in caught.value.details["errors"]] == [(1, "image_url"), (2, "image_url")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The CSV file is empty"),
        ("animal\n", "The file has no data rows"),
        ('{"animal": "cat"}', None),
        ("[1, 2", "could not be read"),
    ],
)
def test_unreadable_files_are_refused(content: str, message: str | None) -> None:
    file_format = "csv" if not content.startswith(("{", "[")) else "json"
    with pytest.raises(AppError) as caught:
        inputs.parse_input_rows(content=content, file_format=file_format, placeholders=[])
    assert caught.value.code == "invalid_input_file"
    if message:
        assert message in caught.value.message


def test_json_rows_with_nested_values_are_refused_per_row() -> None:
    content = '[{"animal": "cat"}, {"animal": ["a"]}, "x"]'
    with pytest.raises(AppError) as caught:
        inputs.parse_input_rows(content=content, file_format="json", placeholders=["animal"])
    assert caught.value.details["errors"] == [
        {"row": 3, "column": "", "message": "Each item must be an object of column names to values."},
        {"row": 2, "column": "animal", "message": "Values must be text or numbers, not lists or objects."},
    ]


def test_answers_are_checked_against_the_fields() -> None:
    fields = inputs.template_answer_fields(TEMPLATE)
    assert inputs.validate_answers(answers={"answer": "yes"}, answer_fields=fields, free_form=False) == {
        "answer": "yes"
    }
    with pytest.raises(AppError) as caught:
        inputs.validate_answers(answers={"comment": "hm", "extra": "x"}, answer_fields=fields, free_form=False)
    assert caught.value.code == "invalid_answers"
    assert caught.value.fields == {
        "extra": ["The task has no such answer field."],
        "answer": ["This answer is required."],
    }
    assert inputs.validate_answers(answers={"anything": 3}, answer_fields=[], free_form=True) == {"anything": "3"}
