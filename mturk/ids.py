"""Public MTurk identifiers.

The AssignmentIds (an HMAC tag in front of the slot id, optionally bound to one worker's
attempt) live in ``tasks.external``, below this app, because the worker's pages and the
REST API hand them to external task pages too; they are re-exported here. HIT type ids
are random, in MTurk's 30-character shape.
"""

import secrets
import string

from tasks.external import (
    assignment_attempt_from_public_id,
    assignment_attempt_public_id,
    assignment_pk_from_public_id,
    assignment_public_id,
)

__all__ = [
    "assignment_attempt_from_public_id",
    "assignment_attempt_public_id",
    "assignment_pk_from_public_id",
    "assignment_public_id",
    "new_hit_type_id",
]

_ID_ALPHABET = string.ascii_uppercase + string.digits


def new_hit_type_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(30))
