"""Scoring an answer against a known answer: control tasks, attention checks and
qualification tests share these rules, written out for workers in ``SCORING_RULES``.

Answer types, told apart by the expected answer:
- a number (``12``, ``-3.5``): the answer must be a number within the tolerance (default 0);
- several options joined by ``|`` (a multi-select, as answers are stored): the same set of options;
- text or a single option: the same after trimming, ignoring case and repeated spaces; a
  tolerance (a whole number) allows that many typing slips (insertions, deletions, changes).
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

SCORING_RULES = _(
    "A number counts as correct within the stated tolerance; several options must be exactly the expected set; "
    "text is compared ignoring case and extra spaces, with as many typing slips as the tolerance allows."
)
MAX_TEXT_TOLERANCE = 20


@dataclass(frozen=True)
class Check:
    """A known answer: the expected value and its tolerance (empty: exact)."""

    expected: str
    tolerance: str = ""


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _normal(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _edit_distance(first: str, second: str, limit: int) -> int:
    """Levenshtein distance, stopping early once it passes ``limit``."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous = list(range(len(second) + 1))
    for i, char in enumerate(first, start=1):
        current = [i]
        for j, other in enumerate(second, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def check_problem(check: Check) -> str:
    """Why a known answer cannot be used (empty when it can): said to the requester."""
    if not check.expected.strip():
        return str(_("The expected answer is empty."))
    if not check.tolerance.strip():
        return ""
    if _number(check.expected) is not None:
        tolerance = _number(check.tolerance)
        if tolerance is None or tolerance < 0:
            return str(_("The tolerance of a number must be a number, zero or more."))
        return ""
    if "|" in check.expected:
        return str(_("A tolerance cannot apply to several options; leave it empty."))
    if not check.tolerance.strip().isdigit() or int(check.tolerance) > MAX_TEXT_TOLERANCE:
        return str(_("The tolerance of a text answer is a whole number of typing slips, 0 to 20."))
    return ""


def answer_correct(*, given: str | None, check: Check) -> bool:
    """Whether ``given`` matches the known answer under the rules above; a missing or
    malformed answer (text where a number is expected) is simply not correct."""
    if given is None:
        return False
    given = str(given)
    expected_number = _number(check.expected)
    if expected_number is not None:
        number = _number(given)
        tolerance = _number(check.tolerance) if check.tolerance.strip() else Decimal(0)
        return number is not None and tolerance is not None and abs(number - expected_number) <= tolerance
    if "|" in check.expected:
        return {_normal(part) for part in given.split("|") if part.strip()} == {
            _normal(part) for part in check.expected.split("|") if part.strip()
        }
    slips = int(check.tolerance) if check.tolerance.strip().isdigit() else 0
    if slips == 0:
        return _normal(given) == _normal(check.expected)
    return _edit_distance(_normal(given), _normal(check.expected), slips) <= slips
