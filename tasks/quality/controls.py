"""Control tasks and attention checks as a requester writes them (issue 27.1, 27.2).

- **Control tasks**: input rows with a column ``_expected_<answer field>`` (and optionally
  ``_tolerance_<answer field>``) are controls; those columns are taken out of the row, so no
  worker ever receives them, and kept on the task.
- **Attention checks**: a form control of the template with ``data-expected="..."`` (and
  optionally ``data-tolerance="..."``) is an attention check on every task; the attributes are
  taken out of the template as it is saved.
"""

import re
from typing import Any

from django.utils.translation import gettext as _

from core.errors import AppError
from tasks.inputs import RowError
from tasks.quality.scoring import Check, check_problem

EXPECTED_PREFIX = "_expected_"
TOLERANCE_PREFIX = "_tolerance_"
_FORM_TAG = re.compile(r"<(input|textarea|select)\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""\s([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+)""")
_CHECK_ATTRIBUTES = ("data-expected", "data-tolerance")


def _unquote(value: str) -> str:
    return value[1:-1] if value[:1] in "\"'" and value[-1:] == value[:1] else value


def template_attention_checks(template: str) -> tuple[str, dict[str, dict[str, str]], dict[str, list[str]]]:
    """The template without its check attributes, the checks ``{field: {"expected", "tolerance"}}``
    and field errors (a check without a name or expected answer, a bad tolerance)."""
    checks: dict[str, dict[str, str]] = {}
    problems: list[str] = []

    def strip(match: re.Match[str]) -> str:
        tag = match.group(0)
        attributes = {name.lower(): _unquote(value) for name, value in _ATTRIBUTE.findall(tag)}
        if not any(name in attributes for name in _CHECK_ATTRIBUTES):
            return tag
        name = attributes.get("name", "")
        expected = attributes.get("data-expected", "")
        tolerance = attributes.get("data-tolerance", "")
        if not name:
            problems.append(_("An attention check (data-expected) needs a name= attribute."))
        elif not expected.strip():
            problems.append(
                _("The attention check '%(name)s' has no expected answer (data-expected).") % {"name": name}
            )
        else:
            problem = check_problem(Check(expected, tolerance))
            if problem:
                problems.append(_("Attention check '%(name)s': %(problem)s") % {"name": name, "problem": problem})
            else:
                checks[name] = {"expected": expected, "tolerance": tolerance}
        return _ATTRIBUTE.sub(
            lambda attribute: "" if attribute.group(1).lower() in _CHECK_ATTRIBUTES else attribute.group(0), tag
        )

    cleaned = _FORM_TAG.sub(strip, template)
    return cleaned, checks, ({"template_html": problems} if problems else {})


def placeholder_problems(placeholders: list[str]) -> list[str]:
    """A template may not show a control's known answer to workers."""
    return [
        _("The template shows ${%(name)s}, a control's known answer; workers must never see it.") % {"name": name}
        for name in placeholders
        if name.startswith((EXPECTED_PREFIX, TOLERANCE_PREFIX))
    ]


def split_control_columns(
    rows: list[dict[str, str]], answer_fields: list[dict[str, Any]]
) -> list[tuple[dict[str, str], dict[str, dict[str, str]]]]:
    """Each row as (input shown to workers, control answers). Raises
    ``AppError("invalid_input_file")`` with per-row errors, before anything is written, for a
    control of an unknown answer field, a tolerance without an expected answer, or a bad
    tolerance."""
    fields = {field["name"] for field in answer_fields}
    errors: list[RowError] = []
    result: list[tuple[dict[str, str], dict[str, dict[str, str]]]] = []
    for number, row in enumerate(rows, start=1):
        shown: dict[str, str] = {}
        control: dict[str, dict[str, str]] = {}
        tolerances: dict[str, str] = {}
        for column, value in row.items():
            if column.startswith(EXPECTED_PREFIX):
                field = column.removeprefix(EXPECTED_PREFIX)
                if field not in fields:
                    errors.append(RowError(number, column, _("The template has no answer field '%s'.") % field))
                elif value.strip():
                    control[field] = {"expected": value.strip(), "tolerance": ""}
            elif column.startswith(TOLERANCE_PREFIX):
                if value.strip():
                    tolerances[column.removeprefix(TOLERANCE_PREFIX)] = value.strip()
            else:
                shown[column] = value
        for field, tolerance in tolerances.items():
            if field not in control:
                errors.append(
                    RowError(
                        number,
                        TOLERANCE_PREFIX + field,
                        _("A tolerance without an expected answer: fill in %s or leave both empty.")
                        % (EXPECTED_PREFIX + field),
                    )
                )
                continue
            control[field]["tolerance"] = tolerance
        for field, check in control.items():
            problem = check_problem(Check(check["expected"], check["tolerance"]))
            if problem:
                errors.append(RowError(number, EXPECTED_PREFIX + field, problem))
        result.append((shown, control))
    if errors:
        shown_errors = errors[:200]
        first = shown_errors[0]
        raise AppError(
            "invalid_input_file",
            _("The control answers have %(count)s problem(s); nothing was created. First: row %(row)s, column "
              "'%(column)s': %(message)s")
            % {"count": len(errors), "row": first.row, "column": first.column, "message": first.message},
            details={"errors": [error.as_dict() for error in shown_errors], "error_count": len(errors)},
        )  # fmt: skip
    return result


def attention_checks_clean(checks: Any, fields: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """Attention checks given as data (a draft's own, kept through an edit or a clone), each
    checked like one written in the template; a malformed one is a field error."""
    if not checks:
        return {}
    problem = ""
    clean: dict[str, dict[str, str]] = {}
    if not isinstance(checks, dict):
        problem = _("Attention checks are a mapping of answer fields to their expected answer and tolerance.")
    else:
        for name, check in checks.items():
            if not isinstance(check, dict) or not isinstance(check.get("expected"), str):
                problem = _("The attention check '%(name)s' has no expected answer.") % {"name": name}
                break
            tolerance = str(check.get("tolerance") or "")
            problem = check_problem(Check(check["expected"], tolerance))
            if problem:
                problem = _("Attention check '%(name)s': %(problem)s") % {"name": name, "problem": problem}
                break
            clean[str(name)] = {"expected": check["expected"], "tolerance": tolerance}
    if problem:
        fields.setdefault("attention_checks", []).append(problem)
        return {}
    return clean


def template_with_attention_checks(
    template: str, checks: dict[str, dict[str, str]]
) -> tuple[str, dict[str, dict[str, str]]]:
    """The template as the requester wrote it: each check's ``data-expected`` (and
    ``data-tolerance``) put back on the first form control of its name, so that a form
    showing the template shows the checks too (``template_attention_checks`` takes them out
    again). Returns the template and the checks it could not place (no control of that name,
    or an answer holding both kinds of quote), which the caller keeps as data."""
    placed: set[str] = set()

    def attribute(name: str, value: str) -> str | None:
        quote = '"' if '"' not in value else "'" if "'" not in value else ""
        return f" {name}={quote}{value}{quote}" if quote else None

    def put(match: re.Match[str]) -> str:
        tag = match.group(0)
        attributes = {name.lower(): _unquote(value) for name, value in _ATTRIBUTE.findall(tag)}
        name = attributes.get("name", "")
        check = checks.get(name)
        if check is None or name in placed or any(a in attributes for a in _CHECK_ATTRIBUTES):
            return tag
        parts = [attribute("data-expected", check["expected"])]
        if check.get("tolerance"):
            parts.append(attribute("data-tolerance", check["tolerance"]))
        if any(part is None for part in parts):
            return tag
        placed.add(name)
        end = len(tag) - (2 if tag.endswith("/>") else 1)
        return tag[:end].rstrip() + "".join(part for part in parts if part) + tag[end:]

    shown = _FORM_TAG.sub(put, template)
    return shown, {name: check for name, check in checks.items() if name not in placed}
