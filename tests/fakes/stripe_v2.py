"""The v2 half of the fake Stripe: Global Payouts (recipient Accounts, AccountLinks,
PayoutIntents with FX quotes, OutboundPayments) and v2 thin events.

``FakeStripeV2`` is a ``FakeStripe`` that also answers ``/v2/...`` as Stripe's v2 API
does: JSON bodies, v2 error envelopes (``{"error": {"type", "code", "message"}}``),
idempotency keys replaying the first answer (a different body under the same key is
an ``idempotency_error``), lost responses after writing. Objects carry the fields of
the library's own classes (``stripe.v2.core.Account``,
``stripe.v2.money_management.PayoutIntent`` / ``OutboundPayment``,
``stripe.v2.core.AccountLink``), so the real library parses them.

Test helpers play Stripe's side: ``recipient_activate`` (the worker finished the
hosted form), ``outbound_payment_set`` (the bank posted, failed or returned it),
``rates`` (the FX rate per destination currency), ``expire_quotes`` and
``thin_event`` (a signed v2 event notification for the event destination).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

from tests.fakes.stripe_api import FakeStripe, RecordedRequest, sign

# Destination units per platform (EUR) unit, and the fee Stripe quotes per payout.
DEFAULT_RATES = {
    "INR": "90.2500",
    "KES": "140.1000",
    "BRL": "5.4200",
    "PHP": "60.7500",
    "USD": "1.0800",
    "MXN": "19.9000",
    "EUR": "1",
}
FEE_BPS = 100  # 1% cross-border fee
FEE_FIXED = 25
ZERO_DECIMAL = {"JPY", "KRW"}


def _iso(moment: int) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _V2Error(Exception):
    def __init__(self, status: int, error_type: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": error_type, "code": code or error_type, "message": message}}


@dataclass
class FakeStripeV2(FakeStripe):
    rates: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RATES))
    v2_objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Quotes lock for five minutes of the fake's clock (``clock`` is epoch seconds).
    lock_seconds: int = 300
    _v2_idempotency: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    _v2_refusals: list[tuple[str, _V2Error]] = field(default_factory=list)

    # -- failure injection ----------------------------------------------------------

    def refuse_next_v2(self, path_prefix: str, *, error_type: str, message: str, status: int = 400) -> None:
        self._v2_refusals.append((path_prefix, _V2Error(status, error_type, message)))

    def expire_quotes(self) -> None:
        """Moves the fake's clock past every rate lock."""
        self.clock += self.lock_seconds + 1

    # -- HTTP ---------------------------------------------------------------------------

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: list[str] | None = None
    ) -> tuple[str, int, dict[str, str]]:
        parts = urlsplit(url)
        if not parts.path.startswith("/v2/"):
            return super().request(method, url, headers, post_data, _usage=_usage)
        method = method.lower()
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        params: dict[str, Any] = json.loads(body) if (method == "post" and body) else dict(parse_qsl(parts.query))
        headers = dict(headers or {})
        key = headers.get("Idempotency-Key")
        self.requests.append(RecordedRequest(method, parts.path, params, key, headers.get("Stripe-Context")))
        response_headers = {"Request-Id": f"req_fakev2{next(self._ids)}", "Content-Type": "application/json"}
        if not str(headers.get("Authorization", "")).startswith("Bearer " + self.api_key_prefix):
            return self._v2_error(_V2Error(401, "invalid_request_error", "Invalid API Key."))
        fingerprint = f"{method} {parts.path} {json.dumps(params, sort_keys=True)}"
        if method == "post" and key and key in self._v2_idempotency:
            stored_fingerprint, status, text = self._v2_idempotency[key]
            if stored_fingerprint != fingerprint:
                return self._v2_error(
                    _V2Error(400, "idempotency_error", f"Idempotency key '{key}' was used with other parameters.")
                )
            self.requests[-1].replayed = True
            return text, status, {**response_headers, "Idempotent-Replayed": "true"}
        for index, (prefix, refusal) in enumerate(self._v2_refusals):
            if parts.path.startswith(prefix):
                del self._v2_refusals[index]
                return self._v2_error(refusal)
        try:
            status, payload = 200, self._v2_route(method, parts.path, params)
        except _V2Error as error:
            status, payload = error.status, error.body
        text = json.dumps(payload)
        if method == "post" and key:
            self._v2_idempotency[key] = (fingerprint, status, text)
        if method == "post" and self._lost_responses:
            self._lost_responses -= 1
            raise stripe.APIConnectionError("The fake lost the response after writing.", should_retry=False)
        return text, status, response_headers

    def _v2_error(self, error: _V2Error) -> tuple[str, int, dict[str, str]]:
        return json.dumps(error.body), error.status, {"Request-Id": f"req_fakev2{next(self._ids)}"}

    def _v2_route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        segments = path.strip("/").split("/")[1:]
        if segments == ["core", "accounts"] and method == "post":
            return self._account_create_v2(params)
        if segments[:2] == ["core", "accounts"] and len(segments) == 3 and method == "get":
            return self._v2_get("v2.core.account", segments[2])
        if segments == ["core", "account_links"] and method == "post":
            return self._account_link_create_v2(params)
        if segments == ["money_management", "payout_intents"] and method == "post":
            return self._payout_intent_create(params)
        if segments[:2] == ["money_management", "payout_intents"] and len(segments) == 4 and segments[3] == "confirm":
            return self._payout_intent_confirm(segments[2])
        if segments[:2] == ["money_management", "outbound_payments"] and len(segments) == 3 and method == "get":
            return self._v2_get("v2.money_management.outbound_payment", segments[2])
        if segments[:2] == ["core", "events"] and len(segments) == 3 and method == "get":
            return self._v2_get("v2.core.event", segments[2])
        raise _V2Error(404, "not_found", f"Unrecognized request URL ({method.upper()}: {path}).")

    def _v2_get(self, kind: str, object_id: str) -> dict[str, Any]:
        found = self.v2_objects.get(object_id)
        if found is None or found["object"] != kind:
            raise _V2Error(404, "not_found", f"No such {kind}: '{object_id}'")
        return copy.deepcopy(found)

    def _store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.v2_objects[obj["id"]] = obj
        return copy.deepcopy(obj)

    # -- accounts -----------------------------------------------------------------------

    def _account_create_v2(self, params: dict[str, Any]) -> dict[str, Any]:
        recipient = (params.get("configuration") or {}).get("recipient") or {}
        capabilities = recipient.get("capabilities") or {}
        identity = params.get("identity") or {}
        if not identity.get("country"):
            raise _V2Error(400, "invalid_request_error", "identity.country is required.")
        pending = {"status": "pending", "status_details": [{"code": "requirements_pending_verification"}]}
        return self._store(
            {
                "id": self._new_id("acct"),
                "object": "v2.core.account",
                "applied_configurations": ["recipient"],
                "closed": False,
                "configuration": {
                    "customer": None,
                    "merchant": None,
                    "recipient": {
                        "applied": True,
                        "capabilities": {
                            "bank_accounts": {"local": copy.deepcopy(pending)}
                            if "bank_accounts" in capabilities
                            else None,
                            "cards": copy.deepcopy(pending) if "cards" in capabilities else None,
                            "stripe_balance": None,
                        },
                    },
                },
                "contact_email": params.get("contact_email"),
                "created": _iso(self._tick()),
                "dashboard": "none",
                "defaults": None,
                "display_name": params.get("display_name"),
                "future_requirements": None,
                "identity": {"country": identity["country"], "entity_type": identity.get("entity_type")},
                "livemode": False,
                "metadata": params.get("metadata") or {},
                "requirements": None,
            }
        )

    def recipient_activate(self, account_id: str, *, method: str = "bank_accounts") -> None:
        capabilities = self.v2_objects[account_id]["configuration"]["recipient"]["capabilities"]
        if method == "bank_accounts":
            capabilities["bank_accounts"]["local"] = {"status": "active", "status_details": []}
        else:
            capabilities["cards"] = {"status": "active", "status_details": []}

    def _account_link_create_v2(self, params: dict[str, Any]) -> dict[str, Any]:
        account = self._v2_get("v2.core.account", str(params.get("account")))
        return {
            "object": "v2.core.account_link",
            "account": account["id"],
            "created": _iso(self._tick()),
            "expires_at": _iso(self.clock + 300),
            "livemode": False,
            "url": f"https://connect.stripe.com/d/setup/r/{account['id']}/{next(self._ids)}",
            "use_case": params.get("use_case"),
        }

    # -- payout intents and outbound payments -------------------------------------------

    def _payout_intent_create(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = params.get("amount") or {}
        value = int(amount.get("value") or 0)
        currency = str(amount.get("currency") or "").upper()
        to = params.get("to") or {}
        recipient = self._v2_get("v2.core.account", str(to.get("recipient")))
        capabilities = recipient["configuration"]["recipient"]["capabilities"]
        active = [c for c in ((capabilities.get("bank_accounts") or {}).get("local"), capabilities.get("cards")) if c]
        if not any(c["status"] == "active" for c in active):
            raise _V2Error(400, "invalid_request_error", "The recipient has no active payout method.")
        to_currency = str(to.get("currency") or currency).upper()
        rate = self.rates.get(to_currency)
        if rate is None or value <= 0:
            raise _V2Error(400, "invalid_request_error", f"Cannot pay {to_currency}.")
        fee = value * FEE_BPS // 10_000 + FEE_FIXED
        factor = Decimal(1) if to_currency in ZERO_DECIMAL else Decimal(100)
        credited = int(
            (Decimal(value) / Decimal(100) * Decimal(rate) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        )
        now = self._tick()
        intent = {
            "id": self._new_id("poi"),
            "object": "v2.money_management.payout_intent",
            "amount": {"value": value, "currency": currency.lower()},
            "confirmation_method": params.get("confirmation_method") or "automatic",
            "created": _iso(now),
            "description": params.get("description"),
            "estimated_fees": [
                {
                    "amount": {"value": fee, "currency": currency.lower()},
                    "type": "cross_border_fee",
                    "network_fee_details": None,
                    "tax_amount": None,
                }
            ],
            "from": {
                "currency": (params.get("from") or {}).get("currency"),
                "debited": {"value": value + fee, "currency": currency.lower()},
                "financial_account": (params.get("from") or {}).get("financial_account"),
            },
            "fx_quote": {
                "lock_duration": "five_minutes",
                "lock_expires_at": _iso(now + self.lock_seconds),
                "lock_status": "active",
                "rates": {currency.lower(): {"exchange_rate": rate}},
                "to_currency": to_currency.lower(),
            },
            "latest_payout": None,
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "next_action": {
                "type": "confirm",
                "confirm": {"fields_to_review": ["estimated_fees", "fx_quote"], "reason": "manually_requested"},
                "handle_failure": None,
            },
            "recipient_notification": None,
            "recipient_verification": None,
            "schedule_options": None,
            "statement_descriptor": None,
            "status": "requires_action",
            "status_transitions": {
                "canceled_at": None,
                "posted_at": None,
                "processing_at": None,
                "requires_action_at": _iso(now),
            },
            "to": {
                "credited": {"value": credited, "currency": to_currency.lower()},
                "currency": to_currency.lower(),
                "payout_method": f"bankacct_{recipient['id']}",
                "payout_method_options": None,
                "recipient": recipient["id"],
            },
            "_lock_until": now + self.lock_seconds,
        }
        return self._public(self._store(intent))

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    def _payout_intent_confirm(self, intent_id: str) -> dict[str, Any]:
        intent = self.v2_objects.get(intent_id)
        if intent is None:
            raise _V2Error(404, "not_found", f"No such payout intent: '{intent_id}'")
        if intent["status"] != "requires_action":
            raise _V2Error(400, "invalid_request_error", "This PayoutIntent was already confirmed.")
        if self.clock > intent["_lock_until"]:
            intent["fx_quote"]["lock_status"] = "expired"
            raise _V2Error(400, "fx_quote_needs_refresh", "The FX quote expired; refresh it before confirming.")
        now = self._tick()
        payment = {
            "id": self._new_id("obp"),
            "object": "v2.money_management.outbound_payment",
            "amount": copy.deepcopy(intent["amount"]),
            "cancelable": True,
            "created": _iso(now),
            "description": intent["description"],
            "expected_arrival_date": _iso(now + 3 * 86400),
            "from": {"debited": intent["from"]["debited"], "financial_account": intent["from"]["financial_account"]},
            "livemode": False,
            "metadata": copy.deepcopy(intent["metadata"]),
            "payout_intent": intent["id"],
            "recipient_notification": {"setting": "configured"},
            "recipient_verification": None,
            "statement_descriptor": "STRIPE",
            "status": "processing",
            "status_details": None,
            "status_transitions": {"canceled_at": None, "failed_at": None, "posted_at": None, "returned_at": None},
            "to": {
                "credited": copy.deepcopy(intent["to"]["credited"]),
                "payout_method": intent["to"]["payout_method"],
                "payout_method_options": None,
                "recipient": intent["to"]["recipient"],
            },
            "tracking_details": None,
        }
        self._store(payment)
        intent.update(
            status="processing",
            latest_payout={"type": "outbound_payment", "outbound_payment": payment["id"], "outbound_transfer": None},
            next_action=None,
        )
        intent["status_transitions"]["processing_at"] = _iso(now)
        return self._public(copy.deepcopy(intent))

    def outbound_payments(self) -> list[dict[str, Any]]:
        return [o for o in self.v2_objects.values() if o["object"] == "v2.money_management.outbound_payment"]

    def outbound_payment_set(self, payment_id: str, status: str, *, reason: str | None = None) -> dict[str, Any]:
        payment = self.v2_objects[payment_id]
        payment["status"] = status
        payment["status_details"] = {status: {"reason": reason}} if reason else None
        payment["status_transitions"][f"{status}_at"] = _iso(self._tick())
        return copy.deepcopy(payment)

    # -- thin events ----------------------------------------------------------------------

    def thin_event(
        self, event_type: str, related_id: str, related_type: str, *, secret: str, event_id: str | None = None
    ) -> tuple[bytes, str, str]:
        """A signed thin event notification (payload, Stripe-Signature, event id), as an
        event destination delivers it; the full event is stored for ``fetch_event``."""
        url_kind = {
            "v2.money_management.outbound_payment": "money_management/outbound_payments",
            "v2.core.account": "core/accounts",
        }[related_type]
        event_id = event_id or self._new_id("evt")
        notification = {
            "id": event_id,
            "object": "v2.core.event",
            "type": event_type,
            "created": _iso(self._tick()),
            "livemode": False,
            "context": None,
            "related_object": {"id": related_id, "type": related_type, "url": f"/v2/{url_kind}/{related_id}"},
            "reason": None,
        }
        self.v2_objects[event_id] = {**notification, "data": None, "changes": None}
        payload = json.dumps(notification).encode()
        return payload, sign(payload, secret, timestamp=int(time.time())), event_id


def quote_expiry(fake: FakeStripeV2) -> timedelta:
    return timedelta(seconds=fake.lock_seconds)
