"""Task templates and input files.

A template is HTML with ``${name}`` placeholders (filled from one input row, as
MTurk's batch CSV does); its answer fields are the ``name=`` attributes of its
form controls. Input rows come from CSV (header row) or JSON (a list of objects).
"""

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from django.utils.translation import gettext as _

from core.errors import AppError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
MAX_ROWS = 50_000
MAX_VALUE_LENGTH = 10_000
_NOT_ANSWERS = {"submit", "button", "reset", "image"}


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row number (the CSV header is row 0)
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def template_placeholders(template: str) -> list[str]:
    """Placeholder names in order of first appearance."""
    seen: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(template):
        seen.setdefault(match.group(1), None)
    return list(seen)


class _FieldParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, bool] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"input", "textarea", "select"}:
            return
        values = dict(attrs)
        name = values.get("name")
        if not name or (tag == "input" and (values.get("type") or "text").lower() in _NOT_ANSWERS):
            return
        required = "required" in values
        # Radio buttons share a name; the field is required if any of them says so.
        self.fields[name] = self.fields.get(name, False) or required

    handle_startendtag = handle_starttag


def template_answer_fields(template: str) -> list[dict[str, Any]]:
    """``[{"name", "required"}]`` for each named form control of ``template``."""
    parser = _FieldParser()
    parser.feed(template)
    parser.close()
    return [{"name": name, "required": required} for name, required in parser.fields.items()]


def template_render(template: str, row: dict[str, str]) -> str:
    """Fills placeholders with the row's values, HTML-escaped (input is data, not markup)."""
    return PLACEHOLDER.sub(lambda match: html.escape(str(row.get(match.group(1), ""))), template)


def _check_rows(
    rows: list[dict[str, Any]], placeholders: list[str], errors: list[RowError], *, skip: set[int]
) -> list[dict[str, str]]:
    clean: list[dict[str, str]] = []
    for number, row in enumerate(rows, start=1):
        if number in skip:  # already reported as malformed
            continue
        out: dict[str, str] = {}
        for column, value in row.items():
            if not isinstance(column, str) or not column.strip():
                errors.append(RowError(number, str(column), _("Every column needs a name.")))
                continue
            if value is None:
                value = ""
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                errors.append(RowError(number, column, _("Values must be text or numbers, not lists or objects.")))
                continue
            text = str(value)
            if len(text) > MAX_VALUE_LENGTH:
                errors.append(
                    RowError(
                        number,
                        column,
                        _("The value is longer than %(count)d characters.") % {"count": MAX_VALUE_LENGTH},
                    )
                )
                continue
            out[column] = text
        for name in placeholders:
            if name not in row:
                errors.append(
                    RowError(
                        number,
                        name,
                        _("The template uses ${%(name)s} but this row has no “%(name)s” column.") % {"name": name},
                    )
                )
            elif not str(row[name] if row[name] is not None else "").strip():
                errors.append(
                    RowError(number, name, _("“%(name)s” is empty; the template needs a value.") % {"name": name})
                )
        clean.append(out)
    return clean


def parse_input_rows(*, content: str, file_format: str, placeholders: list[str]) -> list[dict[str, str]]:
    """Rows of an input file, or ``AppError("invalid_input_file")`` listing every bad row.

    ``details["errors"]`` holds ``{"row", "column", "message"}`` items; nothing is
    created by the caller when this raises.
    """
    errors: list[RowError] = []
    raw_rows: list[dict[str, Any]] = []
    if file_format == "csv":
        reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
        try:
            header = next(reader, None)
            if not header or not any(cell.strip() for cell in header):
                raise AppError("invalid_input_file", _("The CSV file is empty; put column names in the first row."))
            names = [cell.strip() for cell in header]
            duplicates = sorted({name for name in names if names.count(name) > 1})
            for name in duplicates:
                errors.append(RowError(0, name, _("This column name appears more than once in the header.")))
            for number, cells in enumerate(reader, start=1):
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(names):
                    errors.append(
                        RowError(
                            number,
                            "",
                            _("This row has %(cells)d cells; the header has %(names)d.")
                            % {"cells": len(cells), "names": len(names)},
                        )
                    )
                    raw_rows.append({})
                    continue
                raw_rows.append(dict(zip(names, cells, strict=True)))
        except csv.Error as error:
            raise AppError(
                "invalid_input_file", _("The CSV file could not be read: %(error)s.") % {"error": error}
            ) from None
    elif file_format == "json":
        try:
            data = json.loads(content)
        except json.JSONDecodeError as error:
            raise AppError(
                "invalid_input_file",
                _("The JSON file could not be read (line %(lineno)s): %(msg)s.")
                % {"lineno": error.lineno, "msg": error.msg},
            ) from None
        if not isinstance(data, list):
            raise AppError("invalid_input_file", _("The JSON file must be a list of objects, one per task."))
        for number, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                errors.append(RowError(number, "", _("Each item must be an object of column names to values.")))
                raw_rows.append({})
            else:
                raw_rows.append(item)
    else:
        raise AppError("invalid_input_file", _("Send the input rows as CSV or JSON."))
    if not raw_rows and not errors:
        raise AppError("invalid_input_file", _("The file has no data rows; add one row per task."))
    if len(raw_rows) > MAX_ROWS:
        raise AppError(
            "invalid_input_file",
            _("The file has %(amount)s rows; the limit is %(MAX_ROWS)s.")
            % {"amount": len(raw_rows), "MAX_ROWS": MAX_ROWS},
        )
    bad_rows = {error.row for error in errors}
    rows = _check_rows(raw_rows, placeholders, errors, skip=bad_rows)
    if errors:
        shown = errors[:200]
        raise AppError(
            "invalid_input_file",
            _(
                "The input file has %(amount)s problem(s); nothing was created. First: "
                "row %(row)s, column '%(column)s': %(message)s"
            )
            % {"amount": len(errors), "row": shown[0].row, "column": shown[0].column, "message": shown[0].message},
            details={"errors": [error.as_dict() for error in shown], "error_count": len(errors)},
        )
    return rows


def validate_answers(
    *, answers: dict[str, Any], answer_fields: list[dict[str, Any]], free_form: bool
) -> dict[str, str]:
    """Answers checked against the template's fields; ``AppError("invalid_answers")`` otherwise."""
    fields: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    known = {field["name"]: bool(field["required"]) for field in answer_fields}
    for name, value in answers.items():
        if not free_form and name not in known:
            fields[name] = [_("The task has no such answer field.")]
            continue
        if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
            value = "|".join(str(item) for item in value)  # a multi-select, joined as MTurk does
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            fields[name] = [_("Answers are text.")]
            continue
        if len(str(value)) > MAX_VALUE_LENGTH:
            fields[name] = [_("At most %(MAX_VALUE_LENGTH)s characters.") % {"MAX_VALUE_LENGTH": MAX_VALUE_LENGTH}]
            continue
        clean[str(name)] = str(value)
    for name, required in known.items():
        if required and not clean.get(name, "").strip() and name not in fields:
            fields[name] = [_("This answer is required.")]
    if not clean and not fields:
        raise AppError("invalid_answers", _("The submission has no answers; fill in the task before submitting."))
    if fields:
        raise AppError("invalid_answers", _("Some answers need attention; nothing was submitted."), fields=fields)
    return clean
