"""The one door to Wise's Platform API (recipients, quotes, transfers, webhooks), over ``requests``.

Authentication is the co-op's API token (``WISE_API_TOKEN``) for its business profile
(``WISE_PROFILE_ID``). Failures become ``WiseUnavailable`` (503: retry; transfers
carry a ``customerTransactionId`` derived from the payout, which Wise uses to
refuse a second transfer) or ``WiseRefused``. Webhooks are signed by Wise with
RSA-SHA256 over the raw body (``X-Signature-SHA256``), checked against Wise's
public key (``WISE_WEBHOOK_PUBLIC_KEY``, PEM). Tests swap the transport with
``use_transport`` for an in-process fake.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import BaseAdapter

from core.errors import AppError
from core.money import exponent

_transport: BaseAdapter | None = None


def use_transport(adapter: BaseAdapter | None) -> None:
    global _transport
    _transport = adapter


class WiseUnavailable(AppError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            "wise_unavailable",
            "Wise could not be reached; nothing was lost. The payout is sent again shortly.",
            status=503,
            details={"provider_message": detail[:300]},
        )


class WiseRefused(AppError):
    def __init__(self, message: str, *, code: str) -> None:
        super().__init__("wise_refused", f"Wise refused the request: {message}", status=502, details={"code": code})
        self.reason = message
        self.wise_code = code


def configured() -> bool:
    return bool(settings.WISE_API_TOKEN and settings.WISE_PROFILE_ID and settings.WISE_WEBHOOK_PUBLIC_KEY)


def _call(method: str, path: str, *, json: Any = None) -> Any:
    if not configured():
        raise AppError(
            "wise_not_configured",
            _("Wise payouts are not configured on this server; choose another payout method."),
            status=503,
        )
    try:
        with requests.Session() as session:
            if _transport is not None:
                session.mount(settings.WISE_API_BASE, _transport)
            response = session.request(
                method,
                f"{settings.WISE_API_BASE}{path}",
                headers={"Authorization": f"Bearer {settings.WISE_API_TOKEN}", "Content-Type": "application/json"},
                json=json,
                timeout=settings.WISE_TIMEOUT_SECONDS,
            )
    except (requests.ConnectionError, requests.Timeout) as error:
        raise WiseUnavailable(str(error)) from error
    if response.status_code >= 500 or response.status_code == 429:
        raise WiseUnavailable(f"HTTP {response.status_code}")
    try:
        body = response.json() if response.content else {}
    except ValueError:
        raise WiseUnavailable(f"HTTP {response.status_code}: not JSON") from None
    if response.status_code >= 400:
        errors = body.get("errors") or [{}]
        first = errors[0] if isinstance(errors, list) and errors else {}
        raise WiseRefused(
            str(first.get("message") or body.get("message") or "refused"),
            code=str(first.get("code") or body.get("error") or ""),
        )
    return body


def _minor(value: Any, currency: str) -> int:
    return int((Decimal(str(value)) * (10 ** exponent(currency))).to_integral_value())


def _major(amount: int, currency: str) -> str:
    return str(Decimal(amount).scaleb(-exponent(currency)))


def recipient_create(*, currency: str, account_holder: str, account_type: str, details: dict[str, str]) -> str:
    """``POST /v1/accounts``: the worker's bank account as a Wise recipient; its id."""
    body = {
        "currency": currency,
        "type": account_type,
        "profile": int(settings.WISE_PROFILE_ID),
        "accountHolderName": account_holder,
        "ownedByCustomer": False,
        "details": {"legalType": "PRIVATE", **details},
    }
    return str(_call("POST", "/v1/accounts", json=body)["id"])


@dataclass(frozen=True, slots=True)
class WiseQuote:
    """Wise's price: it debits ``source_amount`` from the balance, keeps ``fee`` out of
    it, and converts the rest (``target_amount = (source_amount - fee) * rate``)."""

    id: str
    rate: str
    source_amount: int  # source currency minor units, fee included
    fee: int  # source currency minor units, inside source_amount
    target_amount: int
    target_currency: str
    expires_at: str


def quote_create(*, source_currency: str, target_currency: str, amount: int, recipient: str) -> WiseQuote:
    """``POST /v3/profiles/{profileId}/quotes`` paid from the co-op's Wise balance, for a
    ``sourceAmount`` of ``amount``: Wise's fee comes out of that amount, it is not added."""
    answer = _call(
        "POST",
        f"/v3/profiles/{settings.WISE_PROFILE_ID}/quotes",
        json={
            "sourceCurrency": source_currency,
            "targetCurrency": target_currency,
            "sourceAmount": float(_major(amount, source_currency)),
            "targetAccount": int(recipient),
            "payIn": "BALANCE",
            "payOut": "BANK_TRANSFER",
        },
    )
    option = next(
        (o for o in answer.get("paymentOptions") or [] if o.get("payIn") == "BALANCE" and not o.get("disabled")),
        None,
    )
    if option is None:
        raise WiseRefused("Wise offers no way to pay this recipient from the balance.", code="no_payment_option")
    return WiseQuote(
        id=str(answer["id"]),
        rate=str(answer.get("rate")),
        source_amount=_minor(option.get("sourceAmount") or answer.get("sourceAmount") or 0, source_currency),
        fee=_minor((option.get("fee") or {}).get("total") or 0, source_currency),
        target_amount=_minor(option.get("targetAmount") or answer.get("targetAmount") or 0, target_currency),
        target_currency=target_currency,
        expires_at=str(answer.get("rateExpirationTime") or ""),
    )


@dataclass(frozen=True, slots=True)
class WiseTransfer:
    id: str
    status: str
    target_account: str
    reference: str
    target_value: int
    target_currency: str

    @classmethod
    def from_wise(cls, data: dict[str, Any]) -> WiseTransfer:
        currency = str(data.get("targetCurrency") or "")
        return cls(
            id=str(data["id"]),
            status=str(data.get("status") or ""),
            target_account=str(data.get("targetAccount") or ""),
            reference=str((data.get("details") or {}).get("reference") or ""),
            target_value=_minor(data.get("targetValue") or 0, currency or "EUR"),
            target_currency=currency,
        )


def transfer_create(*, recipient: str, quote_id: str, customer_transaction_id: str, reference: str) -> WiseTransfer:
    """``POST /v1/transfers``; ``customerTransactionId`` makes it idempotent."""
    answer = _call(
        "POST",
        "/v1/transfers",
        json={
            "targetAccount": int(recipient),
            "quoteUuid": quote_id,
            "customerTransactionId": customer_transaction_id,
            "details": {"reference": reference},
        },
    )
    return WiseTransfer.from_wise(answer)


def transfer_fund(*, transfer_id: str) -> str:
    """``POST /v3/profiles/{profileId}/transfers/{id}/payments`` from the balance; its status."""
    answer = _call(
        "POST", f"/v3/profiles/{settings.WISE_PROFILE_ID}/transfers/{transfer_id}/payments", json={"type": "BALANCE"}
    )
    return str(answer.get("status") or "")


def transfer_retrieve(*, transfer_id: str) -> WiseTransfer:
    return WiseTransfer.from_wise(_call("GET", f"/v1/transfers/{transfer_id}"))


class WiseWebhookInvalid(AppError):
    def __init__(self) -> None:
        super().__init__("webhook_signature_invalid", "The Wise signature does not match the body.", status=400)


def webhook_verify(*, body: bytes, signature: str) -> None:
    """Checks ``X-Signature-SHA256`` (base64 RSA-SHA256 of the raw body) against Wise's public key."""
    if not signature or not settings.WISE_WEBHOOK_PUBLIC_KEY:
        raise WiseWebhookInvalid()
    key = serialization.load_pem_public_key(settings.WISE_WEBHOOK_PUBLIC_KEY.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise WiseWebhookInvalid()
    try:
        key.verify(base64.b64decode(signature), body, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise WiseWebhookInvalid() from None
