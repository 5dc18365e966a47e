"""One MTurk call: operation from the target header, parameters checked against the
service model, the handler run (once per UniqueRequestToken), the answer shaped by
the model, and every refusal in MTurk's error shape."""

import logging
from typing import Any

from django.db import transaction

from accounts.selectors import require_organisation_capability
from core.errors import AppError
from mturk import operations, services
from mturk.operations import Caller
from mturk.protocol import (
    CODE_INSUFFICIENT_FUNDS,
    CODE_INVALID_PARAMETER,
    CODE_INVALID_STATE,
    CODE_NOT_AUTHORIZED,
    CODE_NOT_FOUND,
    CODE_SERVICE,
    MTurkError,
    operation_for_target,
    parse_input,
    shape_output,
)

logger = logging.getLogger(__name__)

_APP_CODES = {
    "not_found": CODE_NOT_FOUND,
    "permission_denied": CODE_NOT_AUTHORIZED,
    "insufficient_funds": CODE_INSUFFICIENT_FUNDS,
    "invalid_state": CODE_INVALID_STATE,
    "already_submitted": CODE_INVALID_STATE,
    "not_escrowed": CODE_INVALID_STATE,
    "no_open_slot": CODE_INVALID_STATE,
    "batch_not_available": CODE_INVALID_STATE,
    "organisation_unverified": CODE_NOT_AUTHORIZED,
    "below_minimum_wage": "AWS.MechanicalTurk.BelowMinimumWage",
    "token_reused": "AWS.MechanicalTurk.DuplicateRequest",
}


def mturk_error_from(error: AppError) -> MTurkError:
    """A marketplace refusal in MTurk's terms; the message keeps what to do about it."""
    message = error.message
    if error.fields:
        details = "; ".join(f"{name}: {' '.join(problems)}" for name, problems in error.fields.items())
        message = f"{message} ({details})" if details not in message else message
    if error.code == "not_found":
        message = f"{message.rstrip('.')} (or it is not yours)."
    return MTurkError(message, _APP_CODES.get(error.code, CODE_INVALID_PARAMETER))


# The key scope each operation needs (``accounts.models.KeyScope``); reads any key may
# make are ``None``; every other operation changes what is published and needs "publish".
REVIEW_OPERATIONS = frozenset(
    {
        "AcceptQualificationRequest",
        "ApproveAssignment",
        "CreateWorkerBlock",
        "DeleteWorkerBlock",
        "GetAssignment",
        "ListAssignmentsForHIT",
        "ListBonusPayments",
        "ListQualificationRequests",
        "ListReviewPolicyResultsForHIT",
        "ListReviewableHITs",
        "ListWorkerBlocks",
        "NotifyWorkers",
        "RejectAssignment",
        "RejectQualificationRequest",
        "SendBonus",
        "UpdateHITReviewStatus",
    }
)
READ_OPERATIONS = frozenset(
    {
        "GetAccountBalance",
        "GetFileUploadURL",
        "GetHIT",
        "GetQualificationScore",
        "GetQualificationType",
        "ListHITs",
        "ListHITsForQualificationType",
        "ListQualificationTypes",
        "ListWorkersWithQualificationType",
    }
)


def operation_scope(name: str) -> str | None:
    if name in READ_OPERATIONS:
        return None
    return "review" if name in REVIEW_OPERATIONS else "publish"


def call(*, caller: Caller, target: str, body: Any) -> dict[str, Any]:
    """The wire-shaped answer of one call; raises ``MTurkError`` for every refusal."""
    operation = operation_for_target(target)
    params = parse_input(operation, body)
    handler = operations.HANDLERS[operation.name]
    scope = operation_scope(operation.name)
    if scope is not None:
        try:
            require_organisation_capability(
                user=caller.actor, organisation=caller.organisation, capability=scope, api_key=caller.key
            )
        except AppError as error:
            raise mturk_error_from(error) from None

    def run() -> dict[str, Any]:
        # Each call is all or nothing, even where it calls several services.
        with transaction.atomic():
            return shape_output(operation, handler(caller, params))

    try:
        token = params.get("UniqueRequestToken")
        if token and operation.name in operations.IDEMPOTENT:
            return services.request_token_call(
                organisation=caller.organisation,
                # A token used in the sandbox is never answered for real work, and the reverse.
                operation=f"Sandbox.{operation.name}" if caller.sandbox else operation.name,
                token=token,
                params=params,
                call=run,
            )
        return run()
    except MTurkError:
        raise
    except AppError as error:
        raise mturk_error_from(error) from None
    except Exception:
        logger.exception("mturk operation %s failed", operation.name)
        raise MTurkError(
            "The service could not handle the request; it was logged. Try again later.", CODE_SERVICE, fault=True
        ) from None
