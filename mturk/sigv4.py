"""Verifying AWS Signature Version 4 on requests to the MTurk endpoint.

The signature is recomputed with botocore's own ``SigV4Auth`` over a
reconstructed ``AWSRequest`` (the headers the client says it signed, the body,
the path) and compared in constant time, so any difference in the canonical
form between us and the client shows as a refusal, never as a false accept.
"""

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from accounts.keys import decrypt_secret
from accounts.models import ApiKey
from accounts.selectors import api_key_active
from mturk.protocol import (
    CODE_DUPLICATE_REQUEST,
    CODE_EXPIRED,
    CODE_NOT_AUTHORIZED,
    CODE_SIGNATURE,
    SIGNING_NAME,
    MTurkError,
)

# AWS allows a clock difference of 15 minutes; a captured request replays no longer than that.
MAX_CLOCK_SKEW = dt.timedelta(minutes=15)
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


# A signature is accepted while the server's clock is within MAX_CLOCK_SKEW of its
# X-Amz-Date on either side: the same bytes can arrive during twice the skew.
REPLAY_WINDOW = 2 * MAX_CLOCK_SKEW


@dataclass(frozen=True)
class SignedCaller:
    key: ApiKey
    region: str
    signature: str = ""


def _replay_key(signature: str) -> str:
    return f"mturk:sigv4:{signature}"


def signed_request_first_answer(signature: str) -> dict[str, Any] | None:
    """Claims a signature for its first use, or returns the first use's answer.

    A signature covers the method, path, body and X-Amz-Date, so a second request with
    the same signature is the same request replayed (captured, or retried byte for
    byte). ``None``: first use, go ahead and record the answer with
    ``signed_request_answered``. A dict ``{"status", "body"}``: the answer the first use
    got, to be sent again unchanged, so nothing is done (or paid) twice. While the first
    use is still running the replay is refused with ``DuplicateRequest``. The cache entry
    lives for ``REPLAY_WINDOW``, after which the signature is too old to verify anyway.
    """
    key = _replay_key(signature)
    if cache.add(key, {"state": "running"}, timeout=int(REPLAY_WINDOW.total_seconds())):
        return None
    first = cache.get(key)
    if first is None:  # expired between the two calls: this is now the first use
        return signed_request_first_answer(signature)
    if first.get("state") != "answered":
        raise MTurkError(
            "The same signed request is still being processed; wait for its answer.", CODE_DUPLICATE_REQUEST
        )
    return {"status": first["status"], "body": first["body"]}


def signed_request_answered(signature: str, *, status: int, body: dict[str, Any]) -> None:
    cache.set(
        _replay_key(signature),
        {"state": "answered", "status": status, "body": body},
        timeout=int(REPLAY_WINDOW.total_seconds()),
    )


def signed_request_abandoned(signature: str) -> None:
    """The first use crashed before answering: a retry of the same bytes may run."""
    cache.delete(_replay_key(signature))


def _refuse(message: str, code: str = CODE_SIGNATURE) -> MTurkError:
    return MTurkError(message, code)


def _header(request: HttpRequest, name: str) -> str | None:
    if name == "content-type":
        return request.META.get("CONTENT_TYPE")
    if name == "content-length":
        return request.META.get("CONTENT_LENGTH")
    if name == "host" and "HTTP_HOST" not in request.META:
        # An HTTP/1.0 client may omit Host; the server's own name is what it addressed.
        port = request.META.get("SERVER_PORT", "80")
        server = request.META.get("SERVER_NAME", "")
        return server if port in ("80", "443") else f"{server}:{port}"
    return request.META.get("HTTP_" + name.upper().replace("-", "_"))


def verify_request(request: HttpRequest, body: bytes) -> SignedCaller:
    """The active API key that signed ``request``; ``MTurkError`` for a missing, malformed,
    stale or wrong signature or an unknown or revoked key (the message says which)."""
    match = _AUTHORIZATION.match((request.META.get("HTTP_AUTHORIZATION") or "").strip())
    if match is None:
        raise _refuse(
            "The request is not signed with AWS Signature Version 4; use boto3's mturk client with the "
            "key pair from 'manage.py create_api_key'.",
            CODE_NOT_AUTHORIZED,
        )
    scope = match["credential"].split("/")
    if len(scope) != 5 or scope[3] != SIGNING_NAME or scope[4] != "aws4_request":
        raise _refuse(f"The credential scope must be <key id>/<date>/<region>/{SIGNING_NAME}/aws4_request.")
    access_key_id, scope_date, region = scope[0], scope[1], scope[2]
    amz_date = _header(request, "x-amz-date") or ""
    try:
        signed_at = dt.datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=dt.UTC)
    except ValueError:
        raise _refuse("The X-Amz-Date header is missing or not in the form 20260101T120000Z.") from None
    if abs(timezone.now() - signed_at) > MAX_CLOCK_SKEW:
        raise _refuse(
            f"The signature was made at {signed_at:%Y-%m-%d %H:%M:%S} UTC, more than 15 minutes from the server's "
            "time; check the clock and sign the request again.",
            CODE_EXPIRED,
        )
    if scope_date != amz_date[:8]:
        raise _refuse("The credential scope date does not match X-Amz-Date.")
    signed_names = match["signed"].split(";")
    if "host" not in signed_names or "x-amz-date" not in signed_names:
        raise _refuse("The signature must cover the host and x-amz-date headers.")
    content_hash = _header(request, "x-amz-content-sha256")
    if content_hash is not None and content_hash != hashlib.sha256(body).hexdigest():
        raise _refuse("X-Amz-Content-SHA256 does not match the body; unsigned payloads are not accepted.")
    key = api_key_active(access_key_id=access_key_id)
    secret = decrypt_secret(key.secret_encrypted) if key is not None else None
    if key is None or secret is None:
        raise _refuse(
            f"The access key id '{access_key_id}' is unknown or revoked; create a key with 'manage.py create_api_key'.",
            CODE_NOT_AUTHORIZED,
        )
    headers: dict[str, str] = {}
    for name in signed_names:
        value = _header(request, name)
        if value is None:
            raise _refuse(f"The signed header '{name}' is missing from the request.")
        headers[name] = value
    query = request.META.get("QUERY_STRING", "")
    # The scheme does not enter the canonical request; "http" makes botocore always hash the body.
    url = f"http://{headers['host']}{request.path}" + (f"?{query}" if query else "")
    reconstructed = AWSRequest(method=request.method or "POST", url=url, data=body, headers=headers)
    reconstructed.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key_id, secret), SIGNING_NAME, region)
    canonical = signer.canonical_request(reconstructed)
    expected = signer.signature(signer.string_to_sign(reconstructed, canonical), reconstructed)
    if not hmac.compare_digest(expected, match["signature"]):
        raise _refuse(
            "The request signature we calculated does not match the signature you provided; check the secret "
            "access key and that nothing rewrites the request between the client and the server."
        )
    return SignedCaller(key=key, region=region, signature=match["signature"])
