"""An in-process fake of Wise's Platform API for ``requests``: recipients, quotes with a
rate lock, transfers made once per ``customerTransactionId``, funding from the
balance, and ``transfers#state-change`` webhooks signed with an RSA key of the
fake's own (its public half is what the platform is configured with).

Test helpers play Wise's side: ``transfer_set`` (the transfer moved on),
``expire_quotes`` and ``webhook`` (a signed delivery: headers and body)."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

RATES = {"PKR": "301.40", "BDT": "131.20", "NGN": "1650.00", "KES": "140.10"}
FEE_PERCENT = Decimal("0.0065")
FEE_FIXED = Decimal("0.45")


def _now() -> datetime:
    return datetime.now(tz=UTC)


@dataclass(repr=False)  # its books grow with every request; a test report needs none of them
class FakeWise(BaseAdapter):
    token: str = "wise-token-fake"
    profile_id: str = "4242"
    recipients: dict[str, dict[str, Any]] = field(default_factory=dict)
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    funded: set[str] = field(default_factory=set)
    _by_customer_id: dict[str, str] = field(default_factory=dict)
    _lost: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def lose_next_responses(self, count: int = 1) -> None:
        self._lost += count

    def expire_quotes(self) -> None:
        for quote in self.quotes.values():
            quote["_expires"] = _now() - timedelta(seconds=1)

    def close(self) -> None:
        return None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        path = urlsplit(request.url or "").path
        body = json.loads(request.body) if request.body else {}
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            status, payload = 401, {"error": "unauthorized", "error_description": "Invalid token"}
        else:
            status, payload = self._route(str(request.method), path, body)
        if request.method == "POST" and path == "/v1/transfers" and self._lost:
            self._lost -= 1
            raise requests.ConnectionError("The fake Wise lost the response after writing.")
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.url = request.url or ""
        response.request = request
        return response

    def _error(self, code: str, message: str, status: int = 422) -> tuple[int, dict[str, Any]]:
        return status, {"errors": [{"code": code, "message": message, "arguments": []}]}

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if (method, path) == ("POST", "/v1/accounts"):
            recipient_id = str(next(self._ids))
            self.recipients[recipient_id] = {"id": int(recipient_id), **copy.deepcopy(body), "active": True}
            return 200, copy.deepcopy(self.recipients[recipient_id])
        if (method, path) == ("POST", f"/v3/profiles/{self.profile_id}/quotes"):
            return self._quote(body)
        if (method, path) == ("POST", "/v1/transfers"):
            return self._transfer(body)
        if (
            method == "POST"
            and path.startswith(f"/v3/profiles/{self.profile_id}/transfers/")
            and path.endswith("/payments")
        ):
            transfer_id = path.split("/")[-2]
            if transfer_id not in self.transfers:
                return self._error("transfer.not_found", "No such transfer", 404)
            self.funded.add(transfer_id)
            self.transfers[transfer_id]["status"] = "processing"
            return 201, {"type": "BALANCE", "status": "COMPLETED", "errorCode": None}
        if method == "GET" and path.startswith("/v1/transfers/"):
            transfer = self.transfers.get(path.rsplit("/", 1)[1])
            if transfer is None:
                return self._error("transfer.not_found", "No such transfer", 404)
            return 200, copy.deepcopy(transfer)
        return 404, {"error": "not_found", "message": f"No route {method} {path}"}

    def _quote(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        target = str(body["targetCurrency"])
        rate = RATES.get(target)
        if rate is None:
            return self._error("quote.currency.unsupported", f"Cannot send to {target}.")
        source_amount = Decimal(str(body["sourceAmount"]))
        fee = (source_amount * FEE_PERCENT + FEE_FIXED).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        target_amount = ((source_amount - fee) * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        quote_id = str(uuid.uuid4())
        expires = _now() + timedelta(minutes=30)
        self.quotes[quote_id] = {
            "id": quote_id,
            "sourceCurrency": body["sourceCurrency"],
            "targetCurrency": target,
            "sourceAmount": float(source_amount),
            "targetAmount": float(target_amount),
            "rate": float(rate),
            "rateType": "FIXED",
            "rateExpirationTime": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "createdTime": _now().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "profile": int(self.profile_id),
            "payOut": "BANK_TRANSFER",
            "paymentOptions": [
                {
                    "disabled": False,
                    "payIn": "BALANCE",
                    "payOut": "BANK_TRANSFER",
                    "fee": {"transferwise": float(fee), "payIn": 0.0, "discount": 0.0, "total": float(fee)},
                    "sourceAmount": float(source_amount),
                    "targetAmount": float(target_amount),
                    "sourceCurrency": body["sourceCurrency"],
                    "targetCurrency": target,
                }
            ],
            "targetAccount": body.get("targetAccount"),
            "status": "PENDING",
            "_expires": expires,
        }
        return 200, {k: v for k, v in self.quotes[quote_id].items() if not k.startswith("_")}

    def _transfer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        customer_id = str(body.get("customerTransactionId") or "")
        if customer_id in self._by_customer_id:
            return 200, copy.deepcopy(self.transfers[self._by_customer_id[customer_id]])
        quote = self.quotes.get(str(body.get("quoteUuid")))
        if quote is None:
            return self._error("quote.not_found", "Quote not found")
        if quote["_expires"] < _now():
            return self._error("quote.expired", "The quote has expired; create a new quote")
        if str(body.get("targetAccount")) not in self.recipients:
            return self._error("recipient.not_found", "Recipient not found")
        transfer_id = str(next(self._ids))
        self.transfers[transfer_id] = {
            "id": int(transfer_id),
            "user": 1,
            "targetAccount": int(body["targetAccount"]),
            "quoteUuid": quote["id"],
            "status": "incoming_payment_waiting",
            "reference": body.get("details", {}).get("reference"),
            "rate": quote["rate"],
            "created": _now().isoformat(timespec="seconds"),
            "sourceCurrency": quote["sourceCurrency"],
            "sourceValue": quote["sourceAmount"],
            "targetCurrency": quote["targetCurrency"],
            "targetValue": quote["targetAmount"],
            "customerTransactionId": customer_id,
            "details": copy.deepcopy(body.get("details") or {}),
        }
        self._by_customer_id[customer_id] = transfer_id
        return 200, copy.deepcopy(self.transfers[transfer_id])

    def transfer_set(self, transfer_id: str, status: str) -> None:
        self.transfers[transfer_id]["status"] = status

    def webhook(self, transfer_id: str, state: str, *, forged: bool = False) -> tuple[dict[str, str], bytes]:
        event = {
            "data": {
                "resource": {"type": "transfer", "id": int(transfer_id), "profile_id": int(self.profile_id)},
                "current_state": state,
                "previous_state": "processing",
                "occurred_at": _now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            },
            "subscription_id": "01234567-89ab-cdef-0123-456789abcdef",
            "event_type": "transfers#state-change",
            "schema_version": "4.0.0",
            "sent_at": _now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        body = json.dumps(event).encode()
        signed = body + (b" " if forged else b"")
        signature = base64.b64encode(self._key.sign(signed, padding.PKCS1v15(), hashes.SHA256())).decode()
        return {"X-Signature-SHA256": signature, "X-Delivery-Id": str(uuid.uuid4())}, body
