"""HTTP entry points: the AWS JSON 1.1 endpoint for requesters and MTurk's
externalSubmit for workers' external task pages."""

import json
import logging
import uuid
from collections.abc import Callable, Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from accounts.models import ApiKey
from core.errors import AppError
from mturk import dispatch, services, sigv4
from mturk.operations import Caller
from mturk.protocol import JSON_CONTENT_TYPE, MTurkError, MTurkThrottled
from mturk.sigv4 import verify_request

logger = logging.getLogger(__name__)


def _answer(body: Mapping[str, object], status: int, request_id: str) -> HttpResponse:
    response = JsonResponse(dict(body), status=status, content_type=JSON_CONTENT_TYPE)
    response["x-amzn-RequestId"] = request_id
    return response


# Signed with SigV4 instead of a session, so CSRF does not apply.
@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    """POST with ``X-Amz-Target: MTurkRequesterServiceV20170117.<Operation>``, signed with
    an organisation's API key pair; answers in the model's output shape or MTurk's errors."""
    return _endpoint(request, sandbox=False)


@csrf_exempt
def sandbox_endpoint(request: HttpRequest) -> HttpResponse:
    """The same endpoint in sandbox mode (MTurk's sandbox, issue 24.6): HITs are published
    with play money that never touches the ledger and are worked by the organisation's own
    staff; only sandbox HITs are seen here."""
    return _endpoint(request, sandbox=True)


def _endpoint(request: HttpRequest, *, sandbox: bool) -> HttpResponse:
    request_id = str(uuid.uuid4())
    try:
        if request.method != "POST":
            raise MTurkError("Send a signed POST request (AWS JSON 1.1), e.g. with boto3.client('mturk').")
        # Per address before the signature is checked (guessing), per key after (a runaway script).
        if is_ratelimited(
            request, group="mturk-address", key="ip", rate=settings.MTURK_RATE_PER_ADDRESS, increment=True
        ):
            raise MTurkThrottled("Too many requests from your address; slow down and retry.")
        body = request.body
        signed = verify_request(request, body)
        access_key_id = signed.key.access_key_id
        if is_ratelimited(
            request,
            group="mturk-key",
            key=lambda group, request: access_key_id,
            rate=settings.MTURK_RATE_PER_KEY,
            increment=True,
        ):
            raise MTurkThrottled(f"Too many requests with key {access_key_id}; slow down and retry.")
        ApiKey.objects.filter(pk=signed.key.pk).update(last_used_at=timezone.now())
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise MTurkError("The request body is not JSON.") from None
        caller = Caller(
            organisation=signed.key.organisation, actor=signed.key.created_by, key=signed.key, sandbox=sandbox
        )
        target = request.headers.get("X-Amz-Target", "")
        if target.rsplit(".", 1)[-1] not in REPLAY_GUARDED_OPERATIONS:
            return _answer(dispatch.call(caller=caller, target=target, body=data), 200, request_id)
        return _answer_once(
            signed.signature, lambda: dispatch.call(caller=caller, target=target, body=data), request_id
        )
    except MTurkError as error:
        return _answer(error.body(), error.status, request_id)


# Operations that move money, answered once per signature (issue 19 point 3): a captured
# request replayed within the skew window gets the first success again and pays nothing
# twice, with or without a UniqueRequestToken. Left out: CreateHIT and friends, which
# scripts legitimately send byte for byte alike within one second (their retries use
# UniqueRequestToken), and reads.
REPLAY_GUARDED_OPERATIONS = frozenset(
    {
        "SendBonus",
        "ApproveAssignment",
        "RejectAssignment",
        "CreateAdditionalAssignmentsForHIT",
        "UpdateExpirationForHIT",
        "DeleteHIT",
    }
)


def _answer_once(signature: str, run: Callable[[], Mapping[str, object]], request_id: str) -> HttpResponse:
    """Runs a money operation once per signature and sends its success again to a replay.
    A refusal is not remembered: nothing was done, and the same bytes may be retried
    once the cause is fixed (funds added, work submitted)."""
    first = sigv4.signed_request_first_answer(signature)
    if first is not None:
        logger.info("MTurk request replayed (signature %s...): first answer sent again", signature[:12])
        return _answer(first["body"], int(first["status"]), request_id)
    try:
        body = dict(run())
    except BaseException:
        sigv4.signed_request_abandoned(signature)
        raise
    sigv4.signed_request_answered(signature, status=200, body=body)
    return _answer(body, 200, request_id)


def _form_answers(request: HttpRequest) -> dict[str, object]:
    answers: dict[str, object] = {}
    for name in request.POST:
        if name == "assignmentId":
            continue
        values = request.POST.getlist(name)
        answers[name] = values[0] if len(values) == 1 else values
    return answers


# The external page lives on the requester's site, so its form post is cross-site by
# design (as on MTurk); the unguessable AssignmentId is what authorises it. The answer
# page loads inside the worker UI's iframe, hence same-origin framing.
@csrf_exempt
@xframe_options_sameorigin
@require_POST
def external_submit(request: HttpRequest) -> HttpResponse:
    """MTurk's ``externalSubmit``: the external page posts ``assignmentId`` and its answers."""
    try:
        assignment = services.external_submit(
            assignment_id=request.POST.get("assignmentId", ""), answers=_form_answers(request)
        )
    except AppError as error:
        return render(request, "mturk/external_submit.html", {"error": error.message}, status=error.status_code)
    return render(request, "mturk/external_submit.html", {"assignment": assignment, "batch": assignment.batch})
