"""The one door to PayPal's REST API (Payouts and webhook verification), over ``requests``.

OAuth 2 client credentials (``PAYPAL_CLIENT_ID`` / ``PAYPAL_CLIENT_SECRET``) buy a
bearer token, kept until shortly before it expires. Failures become the project's
errors: ``PaypalUnavailable`` (503: timeout, connection lost, PayPal 5xx; retry with
the same ``sender_batch_id``, which PayPal refuses to pay twice) and
``PaypalRefused`` (PayPal answered no). Tests swap the transport with
``use_transport`` for an in-process fake; nothing else here knows about it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import BaseAdapter

from core.errors import AppError

_transport: BaseAdapter | None = None
_token: tuple[str, float] | None = None
_lock = threading.Lock()


def use_transport(adapter: BaseAdapter | None) -> None:
    """Send every PayPal request through ``adapter`` (None: real HTTPS)."""
    global _transport, _token
    _transport = adapter
    _token = None


class PaypalUnavailable(AppError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            "paypal_unavailable",
            "PayPal could not be reached; nothing was lost. The payout is sent again shortly.",
            status=503,
            details={"provider_message": detail[:300]},
        )


class PaypalRefused(AppError):
    def __init__(self, message: str, *, name: str) -> None:
        super().__init__("paypal_refused", f"PayPal refused the request: {message}", status=502, details={"name": name})
        self.name = name
        self.reason = message


def configured() -> bool:
    return bool(settings.PAYPAL_CLIENT_ID and settings.PAYPAL_CLIENT_SECRET and settings.PAYPAL_WEBHOOK_ID)


def _session() -> requests.Session:
    session = requests.Session()
    if _transport is not None:
        session.mount(settings.PAYPAL_API_BASE, _transport)
    return session


def _send(method: str, path: str, *, headers: dict[str, str], **kwargs: Any) -> requests.Response:
    try:
        with _session() as session:
            return session.request(
                method,
                f"{settings.PAYPAL_API_BASE}{path}",
                headers=headers,
                timeout=settings.PAYPAL_TIMEOUT_SECONDS,
                **kwargs,
            )
    except (requests.ConnectionError, requests.Timeout) as error:
        raise PaypalUnavailable(str(error)) from error


def _answer(response: requests.Response) -> dict[str, Any]:
    if response.status_code >= 500 or response.status_code == 429:
        raise PaypalUnavailable(f"HTTP {response.status_code}")
    try:
        body: dict[str, Any] = response.json() if response.content else {}
    except ValueError:
        raise PaypalUnavailable(f"HTTP {response.status_code}: not JSON") from None
    if response.status_code >= 400:
        raise PaypalRefused(
            str(body.get("message") or body.get("error_description") or "refused"),
            name=str(body.get("name") or body.get("error") or ""),
        )
    return body


def _access_token() -> str:
    global _token
    if not configured():
        raise AppError(
            "paypal_not_configured",
            _("PayPal payouts are not configured on this server; choose another payout method."),
            status=503,
        )
    with _lock:
        if _token is not None and _token[1] > time.monotonic():
            return _token[0]
        body = _answer(
            _send(
                "POST",
                "/v1/oauth2/token",
                headers={"Accept": "application/json"},
                data={"grant_type": "client_credentials"},
                auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
            )
        )
        token = str(body["access_token"])
        _token = (token, time.monotonic() + max(int(body.get("expires_in") or 0) - 60, 0))
        return token


def _authorised(method: str, path: str, *, request_id: str = "", json: Any = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {_access_token()}", "Content-Type": "application/json"}
    if request_id:
        headers["PayPal-Request-Id"] = request_id
    return _answer(_send(method, path, headers=headers, json=json))


@dataclass(frozen=True, slots=True)
class PayoutBatch:
    payout_batch_id: str
    batch_status: str


def payout_batch_create(*, body: dict[str, Any]) -> PayoutBatch:
    """``POST /v1/payments/payouts``. ``sender_batch_id`` is PayPal's idempotency key;
    it is also sent as ``PayPal-Request-Id`` so a retry after a lost answer gets the
    first answer back instead of a duplicate-batch refusal."""
    sender_batch_id = str(body["sender_batch_header"]["sender_batch_id"])
    answer = _authorised("POST", "/v1/payments/payouts", request_id=sender_batch_id, json=body)
    header = answer.get("batch_header") or {}
    return PayoutBatch(
        payout_batch_id=str(header.get("payout_batch_id") or ""), batch_status=str(header.get("batch_status") or "")
    )


@dataclass(frozen=True, slots=True)
class PayoutItem:
    payout_item_id: str
    payout_batch_id: str
    # SUCCESS | FAILED | PENDING | UNCLAIMED | RETURNED | ONHOLD | BLOCKED | REFUNDED | REVERSED
    transaction_status: str
    sender_item_id: str
    amount: int  # minor units of the item's currency
    currency: str
    error: str

    @classmethod
    def from_paypal(cls, data: dict[str, Any]) -> PayoutItem:
        from core.money import parse_major

        item = data.get("payout_item") or {}
        amount = item.get("amount") or {}
        currency = str(amount.get("currency") or "").upper()
        errors = data.get("errors") or {}
        return cls(
            payout_item_id=str(data.get("payout_item_id") or ""),
            payout_batch_id=str(data.get("payout_batch_id") or ""),
            transaction_status=str(data.get("transaction_status") or ""),
            sender_item_id=str(item.get("sender_item_id") or ""),
            amount=parse_major(str(amount.get("value") or "0"), currency or "USD"),
            currency=currency,
            error=str(errors.get("message") or errors.get("name") or "") if isinstance(errors, dict) else "",
        )


def payout_item_retrieve(*, payout_item_id: str) -> PayoutItem:
    """``GET /v1/payments/payouts-item/{id}``: the item as PayPal holds it now."""
    return PayoutItem.from_paypal(_authorised("GET", f"/v1/payments/payouts-item/{payout_item_id}"))


def payout_batch_items(*, payout_batch_id: str) -> list[PayoutItem]:
    """``GET /v1/payments/payouts/{id}``: the batch's items as PayPal holds them now."""
    answer = _authorised("GET", f"/v1/payments/payouts/{payout_batch_id}")
    header = answer.get("batch_header") or {}
    return [
        PayoutItem.from_paypal({"payout_batch_id": header.get("payout_batch_id") or payout_batch_id, **item})
        for item in answer.get("items") or []
    ]


class PaypalWebhookInvalid(AppError):
    def __init__(self) -> None:
        super().__init__("webhook_signature_invalid", "PayPal did not confirm this webhook's signature.", status=400)


def webhook_verify(*, headers: dict[str, str], event: dict[str, Any]) -> None:
    """Asks PayPal (``POST /v1/notifications/verify-webhook-signature``) whether the
    delivery was signed by PayPal for our ``PAYPAL_WEBHOOK_ID``. Raises
    ``PaypalWebhookInvalid`` unless PayPal answers ``SUCCESS``."""
    wanted = (
        "paypal-auth-algo",
        "paypal-cert-url",
        "paypal-transmission-id",
        "paypal-transmission-sig",
        "paypal-transmission-time",
    )
    lowered = {key.lower(): value for key, value in headers.items()}
    if not all(lowered.get(name) for name in wanted) or not settings.PAYPAL_WEBHOOK_ID:
        raise PaypalWebhookInvalid()
    answer = _authorised(
        "POST",
        "/v1/notifications/verify-webhook-signature",
        json={
            "auth_algo": lowered["paypal-auth-algo"],
            "cert_url": lowered["paypal-cert-url"],
            "transmission_id": lowered["paypal-transmission-id"],
            "transmission_sig": lowered["paypal-transmission-sig"],
            "transmission_time": lowered["paypal-transmission-time"],
            "webhook_id": settings.PAYPAL_WEBHOOK_ID,
            "webhook_event": event,
        },
    )
    if answer.get("verification_status") != "SUCCESS":
        raise PaypalWebhookInvalid()
