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
_ID_ALPHABET = string.ascii_uppercase + string.digits


def new_hit_type_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(30))


def _tag(assignment_pk: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"mturk-assignment:{assignment_pk}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode()[:_TAG_LENGTH]


def assignment_public_id(assignment_pk: int) -> str:
    return f"{_tag(assignment_pk)}{assignment_pk}"


def assignment_pk_from_public_id(public_id: str) -> int | None:
    """The assignment's database id, or None when ``public_id`` was not issued by us."""
    tag, digits = public_id[:_TAG_LENGTH], public_id[_TAG_LENGTH:]
    if not digits.isdigit() or len(digits) > 18:
        return None
    pk = int(digits)
    return pk if hmac.compare_digest(tag, _tag(pk)) else None
