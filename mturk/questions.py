"""MTurk's question and answer XML: HTMLQuestion, ExternalQuestion and QuestionForm in,
QuestionFormAnswers out, plus qualification tests (QuestionForm + AnswerKey).

A question becomes what the marketplace understands: an HTML task template (whose
named form controls are the answer fields) or an external task URL.
"""

import functools
import html
import xml.etree.ElementTree as ET  # building answers only; parsing goes through defusedxml
from dataclasses import dataclass, field
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from mturk.protocol import CODE_INVALID_PARAMETER, MTurkError

MAX_XML_LENGTH = 131_072  # MTurk's limit on the Question parameter
ANSWERS_NAMESPACE = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"
)


@dataclass(frozen=True)
class FormQuestion:
    identifier: str
    text: str
    required: bool
    # None for a free-text answer; the selection identifiers and their labels otherwise.
    selections: list[tuple[str, str]] | None = None
    multiple: bool = False


@dataclass(frozen=True)
class ParsedQuestion:
    kind: str  # "html", "external" or "form"
    template_html: str = ""
    external_url: str = ""
    frame_height: int = 0
    form_questions: list[FormQuestion] = field(default_factory=list)


def _invalid(message: str) -> MTurkError:
    return MTurkError(message, CODE_INVALID_PARAMETER)


def _parse(text: str, what: str) -> ET.Element:
    if len(text) > MAX_XML_LENGTH:
        raise _invalid(f"{what} is longer than {MAX_XML_LENGTH} characters.")
    # No DTDs and no entities at all: they are the door to entity-expansion and external-entity
    # attacks. defusedxml refuses them inside the parser itself, so no text trick (a fake CDATA
    # opener in a comment, odd casing) can hide one; an HTML page inside a CDATA section may
    # still start with <!DOCTYPE html>, which the parser sees as text.
    try:
        return defused_fromstring(text.strip(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _invalid(f"{what} must not contain a DOCTYPE or entity declarations.") from None
    except ET.ParseError as error:
        raise _invalid(f"{what} is not well-formed XML: {error}.") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element | None) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _frame_height(root: ET.Element) -> int:
    value = _text(_child(root, "FrameHeight"))
    return int(value) if value.isdigit() else 0


def _form_questions(root: ET.Element) -> list[FormQuestion]:
    questions: list[FormQuestion] = []
    for element in _children(root, "Question"):
        identifier = _text(_child(element, "QuestionIdentifier"))
        if not identifier:
            raise _invalid("Every Question of a QuestionForm needs a QuestionIdentifier.")
        content = _child(element, "QuestionContent")
        label = _text(_child(element, "DisplayName")) or _text(content) or identifier
        required = _text(_child(element, "IsRequired")).lower() == "true"
        spec = _child(element, "AnswerSpecification")
        selection = _child(spec, "SelectionAnswer") if spec is not None else None
        if selection is not None:
            holder = _child(selection, "Selections")
            options = [
                (_text(_child(item, "SelectionIdentifier")), _text(_child(item, "Text")) or _text(item))
                for item in (_children(holder, "Selection") if holder is not None else [])
            ]
            if not options or not all(identifier_ for identifier_, _ in options):
                raise _invalid(f"The SelectionAnswer of '{identifier}' needs Selections with SelectionIdentifiers.")
            maximum = _text(_child(selection, "MaxSelectionCount"))
            questions.append(
                FormQuestion(identifier, label, required, options, multiple=maximum.isdigit() and int(maximum) > 1)
            )
        elif spec is not None and _child(spec, "FileUploadAnswer") is not None:
            raise _invalid(f"'{identifier}' asks for a file upload; file answers are not supported here.")
        else:
            questions.append(FormQuestion(identifier, label, required))
    if not questions:
        raise _invalid("The QuestionForm has no Question elements.")
    identifiers = [question.identifier for question in questions]
    if len(set(identifiers)) != len(identifiers):
        raise _invalid("The QuestionIdentifiers of a QuestionForm must be unique.")
    return questions


def _form_html(overview: str, questions: list[FormQuestion]) -> str:
    """An HTML template equivalent to a QuestionForm: one named control per question."""
    parts = [f"<p>{html.escape(overview)}</p>"] if overview else []
    for question in questions:
        name = html.escape(question.identifier, quote=True)
        required = " required" if question.required else ""
        parts.append(f"<fieldset><legend>{html.escape(question.text)}</legend>")
        if question.selections is None:
            parts.append(f'<textarea name="{name}"{required}></textarea>')
        else:
            kind = "checkbox" if question.multiple else "radio"
            for value, label in question.selections:
                parts.append(
                    f'<label><input type="{kind}" name="{name}" value="{html.escape(value, quote=True)}"{required}> '
                    f"{html.escape(label)}</label>"
                )
        parts.append("</fieldset>")
    return "\n".join(parts)


def parse_question(text: str) -> ParsedQuestion:
    """An HTMLQuestion, ExternalQuestion or QuestionForm document, or ``MTurkError``."""
    root = _parse(text, "The Question parameter")
    kind = _local(root.tag)
    if kind == "HTMLQuestion":
        content = _text(_child(root, "HTMLContent"))
        if not content:
            raise _invalid("The HTMLQuestion has no HTMLContent.")
        return ParsedQuestion(kind="html", template_html=content, frame_height=_frame_height(root))
    if kind == "ExternalQuestion":
        url = _text(_child(root, "ExternalURL"))
        if not url.startswith("https://"):
            raise _invalid("The ExternalURL of an ExternalQuestion must be an https:// address.")
        return ParsedQuestion(kind="external", external_url=url, frame_height=_frame_height(root))
    if kind == "QuestionForm":
        questions = _form_questions(root)
        overview = _text(_child(root, "Overview"))
        return ParsedQuestion(kind="form", template_html=_form_html(overview, questions), form_questions=questions)
    if kind == "HTMLQuestion" or kind.endswith("Question"):
        raise _invalid(f"{kind} is not supported; use HTMLQuestion, ExternalQuestion or QuestionForm.")
    raise _invalid("The Question must be an HTMLQuestion, ExternalQuestion or QuestionForm document.")


# A listing of a HIT's assignments asks once per assignment; the document never changes.
@functools.lru_cache(maxsize=256)
def selection_question_ids(question_xml: str) -> frozenset[str]:
    """Identifiers of a QuestionForm's selection questions (answered with SelectionIdentifier)."""
    if not question_xml:
        return frozenset()
    parsed = parse_question(question_xml)
    return frozenset(q.identifier for q in parsed.form_questions if q.selections is not None)


def answers_xml(answers: dict[str, Any], *, selection_ids: set[str] | frozenset[str] = frozenset()) -> str:
    """The QuestionFormAnswers document MTurk returns in ``Assignment.Answer``.

    Answers to a QuestionForm's selection questions are ``SelectionIdentifier`` elements
    (one per chosen option; the marketplace joins several with ``|``); all others are
    ``FreeText``, as MTurk does for HTML and external questions."""
    root = ET.Element("QuestionFormAnswers", xmlns=ANSWERS_NAMESPACE)
    for name, value in answers.items():
        answer = ET.SubElement(root, "Answer")
        ET.SubElement(answer, "QuestionIdentifier").text = str(name)
        if name in selection_ids:
            for choice in str(value).split("|"):
                ET.SubElement(answer, "SelectionIdentifier").text = choice
        else:
            ET.SubElement(answer, "FreeText").text = str(value)
    return '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + ET.tostring(root, encoding="unicode")


def parse_answers_xml(text: str) -> dict[str, str]:
    """The answers of a QuestionFormAnswers document (several selections joined with ``|``)."""
    root = _parse(text, "The QuestionFormAnswers document")
    answers: dict[str, str] = {}
    for answer in _children(root, "Answer"):
        name = _text(_child(answer, "QuestionIdentifier"))
        selections = [_text(item) for item in _children(answer, "SelectionIdentifier")]
        answers[name] = "|".join(selections) if selections else _text(_child(answer, "FreeText"))
    return answers


@dataclass(frozen=True)
class QualificationTest:
    questions: list[dict[str, Any]]
    answer_key: dict[str, str]


def parse_qualification_test(test_xml: str, answer_key_xml: str | None) -> QualificationTest:
    """A qualification test (a QuestionForm) and its AnswerKey in the marketplace's terms.

    The correct answer of each question is its highest-scoring AnswerOption; the
    marketplace grants the qualification when every answer is correct."""
    root = _parse(test_xml, "The Test parameter")
    if _local(root.tag) != "QuestionForm":
        raise _invalid("A qualification Test must be a QuestionForm document.")
    questions = _form_questions(root)
    listed = [
        {"name": q.identifier, "question": q.text, "options": [value for value, _ in q.selections or []]}
        for q in questions
    ]
    key: dict[str, str] = {}
    if answer_key_xml:
        key_root = _parse(answer_key_xml, "The AnswerKey parameter")
        for question in _children(key_root, "Question"):
            name = _text(_child(question, "QuestionIdentifier"))
            best: tuple[int, str] | None = None
            for option in _children(question, "AnswerOption"):
                score_text = _text(_child(option, "AnswerScore"))
                score = int(score_text) if score_text.lstrip("-").isdigit() else 0
                value = "|".join(_text(item) for item in _children(option, "SelectionIdentifier"))
                if best is None or score > best[0]:
                    best = (score, value)
            if best is not None:
                key[name] = best[1]
        missing = sorted({question.identifier for question in questions} - set(key))
        if missing:
            raise _invalid(f"The AnswerKey has no answer for: {', '.join(missing)}.")
    return QualificationTest(questions=listed, answer_key=key)
