"""An in-process fake of PayPal's REST API for ``requests`` (a transport adapter):
OAuth client credentials, Payouts (batches and items) and webhook verification,
answering PayPal's documented JSON.

What it holds to, because the platform's money safety depends on it:

- ``sender_batch_id`` is unique: a second batch with the same id is refused
  (``USER_BUSINESS_ERROR`` / ``DUPLICATE_SENDER_BATCH_ID``), unless the request
  repeats the first one's ``PayPal-Request-Id``, which replays the first answer;
- a lost response (``lose_next_responses``): the batch is made, the caller sees a
  connection error;
- ``verify-webhook-signature`` answers ``SUCCESS`` only for deliveries this fake
  signed (``webhook``), for the configured webhook id.

Test helpers play PayPal's side: ``item_set`` (the item succeeded, failed, was
returned...) and ``webhook`` (a delivery: headers and body).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


@dataclass
class FakePaypal(BaseAdapter):
    client_id: str = "paypal-client"
    client_secret: str = "paypal-secret"
    webhook_id: str = "WH-FAKE-1"
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    _by_sender_batch: dict[str, str] = field(default_factory=dict)
    _request_ids: dict[str, tuple[int, str]] = field(default_factory=dict)
    _signed: set[str] = field(default_factory=set)
    _tokens: set[str] = field(default_factory=set)
    _lost: int = 0
    _timeouts: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        super().__init__()

    def lose_next_responses(self, count: int = 1) -> None:
        self._lost += count

    def time_out_next(self, count: int = 1) -> None:
        """The next requests time out before reaching PayPal (nothing is written)."""
        self._timeouts += count

    def close(self) -> None:
        return None

    # -- transport ------------------------------------------------------------------------

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        self.requests.append((str(request.method), parts.path, {"body": body}))
        if self._timeouts:
            self._timeouts -= 1
            raise requests.Timeout("The fake PayPal timed out.")
        status, payload = self._route(str(request.method), parts.path, body, request.headers)
        if request.method == "POST" and parts.path == "/v1/payments/payouts" and self._lost:
            self._lost -= 1
            raise requests.ConnectionError("The fake PayPal lost the response after writing.")
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.url = request.url or ""
        response.request = request
        return response

    def _route(self, method: str, path: str, body: str, headers: Any) -> tuple[int, dict[str, Any]]:
        if path == "/v1/oauth2/token" and method == "POST":
            return self._token(body, headers)
        token = str(headers.get("Authorization", "")).removeprefix("Bearer ")
        if token not in self._tokens:
            return 401, {"error": "invalid_token", "error_description": "Token signature verification failed"}
        if path == "/v1/payments/payouts" and method == "POST":
            return self._batch_create(json.loads(body), str(headers.get("PayPal-Request-Id", "")))
        if path.startswith("/v1/payments/payouts/") and method == "GET":
            batch = self.batches.get(path.rsplit("/", 1)[1])
            if batch is None:
                return 404, {"name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist."}
            items = [copy.deepcopy(i) for i in self.items.values() if i["payout_batch_id"] == path.rsplit("/", 1)[1]]
            return 200, {"batch_header": copy.deepcopy(batch["batch_header"]), "items": items, "links": []}
        if path.startswith("/v1/payments/payouts-item/") and method == "GET":
            item = self.items.get(path.rsplit("/", 1)[1])
            if item is None:
                return 404, {"name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist."}
            return 200, copy.deepcopy(item)
        if path == "/v1/notifications/verify-webhook-signature" and method == "POST":
            data = json.loads(body)
            ok = data.get("webhook_id") == self.webhook_id and data.get("transmission_sig") in self._signed
            expected = self._signature(data.get("transmission_id", ""), data.get("webhook_event") or {})
            ok = ok and data.get("transmission_sig") == expected
            return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}
        return 404, {"name": "RESOURCE_NOT_FOUND", "message": f"No route {method} {path}"}

    def _token(self, body: str, headers: Any) -> tuple[int, dict[str, Any]]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if (
            headers.get("Authorization") != f"Basic {expected}"
            or dict(parse_qsl(body)).get("grant_type") != "client_credentials"
        ):
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        token = f"A21AA{next(self._ids):08d}"
        self._tokens.add(token)
        return 200, {
            "scope": "https://uri.paypal.com/services/payments/payouts",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-FAKE",
            "expires_in": 32400,
            "nonce": "fake",
        }

    def _batch_create(self, data: dict[str, Any], request_id: str) -> tuple[int, dict[str, Any]]:
        if request_id and request_id in self._request_ids:
            status, text = self._request_ids[request_id]
            return status, json.loads(text)
        sender_batch_id = str((data.get("sender_batch_header") or {}).get("sender_batch_id") or "")
        if sender_batch_id in self._by_sender_batch:
            return 400, {
                "name": "USER_BUSINESS_ERROR",
                "message": "User business error.",
                "details": [{"issue": "DUPLICATE_SENDER_BATCH_ID", "description": "Batch already exists."}],
            }
        batch_id = f"FAKEBATCH{next(self._ids):06d}"
        now = datetime.now(tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        total = 0.0
        for entry in data.get("items") or []:
            item_id = f"FAKEITEM{next(self._ids):06d}"
            total += float(entry["amount"]["value"])
            self.items[item_id] = {
                "payout_item_id": item_id,
                "transaction_status": "PENDING",
                "payout_item_fee": {"currency": entry["amount"]["currency"], "value": "0.00"},
                "payout_batch_id": batch_id,
                "payout_item": copy.deepcopy(entry),
                "time_processed": now,
                "links": [],
            }
        header = {
            "payout_batch_id": batch_id,
            "batch_status": "PENDING",
            "sender_batch_header": copy.deepcopy(data.get("sender_batch_header")),
        }
        self.batches[batch_id] = {
            "batch_header": header,
            "items": [i for i in self.items.values() if i["payout_batch_id"] == batch_id],
        }
        self._by_sender_batch[sender_batch_id] = batch_id
        answer = {
            "batch_header": header,
            "links": [{"href": f"/v1/payments/payouts/{batch_id}", "rel": "self", "method": "GET"}],
        }
        if request_id:
            self._request_ids[request_id] = (201, json.dumps(answer))
        return 201, answer

    # -- PayPal's side ------------------------------------------------------------------------

    def item_for_batch(self, batch_id: str) -> dict[str, Any]:
        return next(i for i in self.items.values() if i["payout_batch_id"] == batch_id)

    def item_set(self, item_id: str, status: str, *, error: str = "") -> dict[str, Any]:
        item = self.items[item_id]
        item["transaction_status"] = status
        if error:
            item["errors"] = {"name": error, "message": error.replace("_", " ").lower()}
        return copy.deepcopy(item)

    def _signature(self, transmission_id: str, event: dict[str, Any]) -> str:
        digest = hashlib.sha256(f"{transmission_id}|{json.dumps(event, sort_keys=True)}".encode()).hexdigest()
        return f"fake-sig-{digest}"

    def webhook(
        self, event_type: str, item_id: str, *, event_id: str | None = None, forged: bool = False
    ) -> tuple[dict[str, str], bytes]:
        """One delivery of a ``PAYMENT.PAYOUTS-ITEM.*`` event (the item as PayPal
        holds it now), with the transmission headers PayPal signs."""
        event = {
            "id": event_id or f"WH-EVT-{next(self._ids):06d}",
            "event_version": "1.0",
            "create_time": datetime.now(tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "resource_type": "payouts_item",
            "event_type": event_type,
            "summary": f"Payout item {event_type.rsplit('.', 1)[1].lower()}",
            "resource": copy.deepcopy(self.items[item_id]),
            "links": [],
        }
        transmission_id = f"tx-{next(self._ids)}"
        signature = self._signature(transmission_id, event)
        if not forged:
            self._signed.add(signature)
        headers = {
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT-FAKE",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-TRANSMISSION-TIME": event["create_time"],
        }
        return headers, json.dumps(event).encode()
