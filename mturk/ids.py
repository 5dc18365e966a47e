"""Public MTurk identifiers.

An AssignmentId is the assignment's id behind an HMAC tag: it is all an external
task page needs to submit (as on MTurk), so it must not be guessable from the
sequential database id. HIT type ids are random, in MTurk's 30-character shape.
"""

import base64
import hashlib
import hmac
import secrets
import string

from django.conf import settings

_TAG_LENGTH = 20
# Separates the slot id from the attempt id after the fixed-length tag (ids are digits).
_ATTEMPT_SEPARATOR = "X"
_ID_ALPHABET = string.ascii_uppercase + string.digits


def new_hit_type_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(30))


def _tag(subject: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"mturk-assignment:{subject}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode()[:_TAG_LENGTH]


def assignment_public_id(assignment_pk: int) -> str:
    """The requester's AssignmentId of a slot (listings, approvals, notifications)."""
    return f"{_tag(str(assignment_pk))}{assignment_pk}"


def assignment_attempt_public_id(assignment_pk: int, attempt_pk: int) -> str:
    """The AssignmentId an external page gets: bound to the slot AND to one worker's
    attempt at it, so an id handed to a worker who returned the slot (or let it
    expire) is stale once someone else takes the slot: externalSubmit refuses it."""
    return f"{_tag(f'{assignment_pk}:{attempt_pk}')}{assignment_pk}{_ATTEMPT_SEPARATOR}{attempt_pk}"


def _parse(public_id: str) -> tuple[int, int | None] | None:
    tag, rest = public_id[:_TAG_LENGTH], public_id[_TAG_LENGTH:]
    slot_digits, _, attempt_digits = rest.partition(_ATTEMPT_SEPARATOR)
    if not slot_digits.isdigit() or len(slot_digits) > 18 or len(attempt_digits) > 18:
        return None
    if attempt_digits:
        if not attempt_digits.isdigit():
            return None
        subject = f"{int(slot_digits)}:{int(attempt_digits)}"
        return (int(slot_digits), int(attempt_digits)) if hmac.compare_digest(tag, _tag(subject)) else None
    if _ATTEMPT_SEPARATOR in rest:
        return None
    return (int(slot_digits), None) if hmac.compare_digest(tag, _tag(str(int(slot_digits)))) else None


def assignment_pk_from_public_id(public_id: str) -> int | None:
    """The assignment's database id, or None when ``public_id`` was not issued by us
    (either form: the requester's or an external page's attempt-bound id)."""
    parsed = _parse(public_id)
    return parsed[0] if parsed is not None else None


def assignment_attempt_from_public_id(public_id: str) -> tuple[int, int] | None:
    """``(assignment id, attempt id)`` of an attempt-bound id; None for any other id."""
    parsed = _parse(public_id)
    if parsed is None or parsed[1] is None:
        return None
    return parsed[0], parsed[1]
