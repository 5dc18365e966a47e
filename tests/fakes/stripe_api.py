"""An in-process fake of the Stripe HTTP API for the real ``stripe`` library.

Plug it in with ``StripeClient(http_client=FakeStripe())`` (the gateway does so
through ``stripe_gateway.use_http_client``): the project's code then goes through
the library's real request encoding, error mapping and response parsing, and
the fake answers with Stripe's published example objects
(``/work/shared/stripe/fixtures3.json``) with ids and amounts set per request.

What it holds to, because the platform's money safety depends on it:

- idempotency keys: the same key with the same method, path and parameters
  replays the first response; the same key with anything different answers
  Stripe's ``idempotency_error`` (HTTP 400);
- a lost response (``lose_next_responses``): the write happens and is remembered
  under its idempotency key, but the client sees a connection error;
- balance transactions for every movement of the platform balance (charges,
  refunds, transfers, payouts), for reconciliation.

Supported: payment intents, refunds, balance transactions, balance, transfers,
payouts, accounts and account links (Connect). Test helpers play the part of
the customer and of Stripe's side: ``payment_intent_succeed``,
``payment_intent_fail``, ``payout_settle``, ``event`` and ``sign``.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

FIXTURES_PATH = Path("/work/shared/stripe/fixtures3.json")
if not FIXTURES_PATH.exists():  # a checkout elsewhere keeps the file beside the repository
    FIXTURES_PATH = Path(__file__).resolve().parents[3] / "shared" / "stripe" / "fixtures3.json"

_FIXTURES: dict[str, Any] | None = None


def fixture(resource: str) -> dict[str, Any]:
    """A deep copy of Stripe's example object for ``resource`` (e.g. "payment_intent")."""
    global _FIXTURES
    if _FIXTURES is None:
        _FIXTURES = json.loads(FIXTURES_PATH.read_text())["resources"]
    return copy.deepcopy(_FIXTURES[resource])


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``metadata[key]=v``, ``expand[0]=x``) back into nested data."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", raw_key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {key: _lists(value) for key, value in node.items()}
        if converted and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    return node


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    stripe_account: str | None
    replayed: bool = False


class _Refusal(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def _invalid(message: str, *, param: str | None = None, code: str | None = None, status: int = 400) -> _Refusal:
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if param:
        error["param"] = param
    if code:
        error["code"] = code
    return _Refusal(status, error)


@dataclass
class _Stored:
    fingerprint: tuple[str, str, str]
    status: int
    body: str


@dataclass
class FakeStripe(stripe.HTTPClient):
    """The fake Stripe account. Inspect ``objects``, ``requests`` and ``balance_transactions``."""

    name = "fake-stripe"

    api_key_prefix: str = "sk_test_"
    clock: int = field(default_factory=lambda: int(time.time()))
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    requests: list[RecordedRequest] = field(default_factory=list)
    balance_transactions: list[dict[str, Any]] = field(default_factory=list)
    _idempotency: dict[tuple[str | None, str], _Stored] = field(default_factory=dict)
    _lost_responses: int = 0
    _queued_refusals: list[tuple[str, _Refusal]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Stripe's ids are unique across accounts; so are those of two fakes in one test database.
    _tag: str = field(default_factory=lambda: secrets.token_hex(3))

    def __post_init__(self) -> None:
        super().__init__()

    # -- failure injection ---------------------------------------------------

    def lose_next_responses(self, count: int = 1) -> None:
        """The next ``count`` writes happen, but the caller sees a connection error."""
        self._lost_responses += count

    def keep_responses(self) -> None:
        """Disarms ``lose_next_responses`` (for a caller refused before it reached Stripe)."""
        self._lost_responses = 0

    def refuse_next(self, path_prefix: str, *, status: int = 400, code: str = "", message: str = "") -> None:
        """The next request whose path starts with ``path_prefix`` is refused without writing."""
        error_type = "card_error" if status == 402 else "invalid_request_error"
        body = {"type": error_type, "code": code or "refused", "message": message or "Refused by the fake."}
        self._queued_refusals.append((path_prefix, _Refusal(status, body)))

    # -- the HTTP surface the stripe library calls ----------------------------

    def request(
        self,
        method: str,
        url: str,
        headers: Any,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, dict[str, str]]:
        parts = urlsplit(url)
        method = method.lower()
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        params = decode_form(body if method == "post" else parts.query)
        headers = dict(headers or {})
        key = headers.get("Idempotency-Key")
        account = headers.get("Stripe-Account")
        recorded = RecordedRequest(method, parts.path, params, key, account)
        self.requests.append(recorded)
        response_headers = {"Request-Id": f"req_fake{next(self._ids)}", "Content-Type": "application/json"}

        if not str(headers.get("Authorization", "")).startswith("Bearer " + self.api_key_prefix):
            return self._error(_Refusal(401, {"type": "invalid_request_error", "message": "Invalid API Key."}))

        if method == "post" and key:
            fingerprint = (method, parts.path, json.dumps(params, sort_keys=True))
            stored = self._idempotency.get((account, key))
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    refusal = _Refusal(
                        400,
                        {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with the same parameters "
                            f"they were first used with. Try using a key other than '{key}' if you meant "
                            "to execute a different request.",
                        },
                    )
                    return self._error(refusal)
                recorded.replayed = True
                return stored.body, stored.status, {**response_headers, "Idempotent-Replayed": "true"}

        for index, (prefix, refusal) in enumerate(self._queued_refusals):
            if parts.path.startswith(prefix):
                del self._queued_refusals[index]
                return self._error(refusal)

        try:
            status, payload = 200, self._route(method, parts.path, params, account)
        except _Refusal as refusal:
            status, payload = refusal.status, {"error": refusal.body}
        text = json.dumps(payload)
        if method == "post" and key:
            self._idempotency[(account, key)] = _Stored(
                (method, parts.path, json.dumps(params, sort_keys=True)), status, text
            )
        if method == "post" and self._lost_responses:
            self._lost_responses -= 1
            raise stripe.APIConnectionError("The fake lost the response after writing.", should_retry=False)
        return text, status, response_headers

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("The fake Stripe does not stream.")

    def close(self) -> None:
        return None

    def _error(self, refusal: _Refusal) -> tuple[str, int, dict[str, str]]:
        return json.dumps({"error": refusal.body}), refusal.status, {"Request-Id": f"req_fake{next(self._ids)}"}

    # -- routing --------------------------------------------------------------

    def _route(self, method: str, path: str, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        segments = path.strip("/").split("/")
        if segments[0] != "v1" or len(segments) < 2:
            raise _invalid(f"Unrecognized request URL ({method.upper()}: {path}).", status=404)
        resource, rest = segments[1], segments[2:]
        handlers = {
            ("post", "payment_intents", 0): self._payment_intent_create,
            ("post", "refunds", 0): self._refund_create,
            ("post", "transfers", 0): self._transfer_create,
            ("post", "payouts", 0): self._payout_create,
            ("post", "accounts", 0): self._account_create,
            ("post", "account_links", 0): self._account_link_create,
            ("get", "balance_transactions", 0): self._balance_transactions_list,
            ("get", "balance", 0): self._balance,
        }
        if (method, resource, len(rest)) == ("post", "transfers", 2) and rest[1] == "reversals":
            return self._transfer_reversal_create(rest[0], params)  # payouts block
        handler = handlers.get((method, resource, len(rest)))
        if handler is not None:
            return handler(params, account)
        if method == "get" and len(rest) == 1:
            kind = {
                "payment_intents": "payment_intent",
                "refunds": "refund",
                "transfers": "transfer",
                "payouts": "payout",
                "accounts": "account",
                "charges": "charge",
                "balance_transactions": "balance_transaction",
            }.get(resource)
            if kind is not None:
                return self.get(kind, rest[0])
        raise _invalid(f"Unrecognized request URL ({method.upper()}: {path}).", status=404)

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        found = self.objects[kind].get(object_id)
        if found is None:
            raise _invalid(f"No such {kind}: '{object_id}'", param="id", code="resource_missing", status=404)
        return found

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{self._tag}{next(self._ids):06d}"

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    @staticmethod
    def _amount(params: dict[str, Any], name: str = "amount") -> int:
        try:
            amount = int(params[name])
        except (KeyError, ValueError):
            raise _invalid(f"Missing required param: {name}.", param=name) from None
        if amount <= 0:
            raise _invalid("This value must be greater than or equal to 1.", param=name)
        return amount

    def _balance_transaction(self, *, kind: str, amount: int, currency: str, source: str, fee: int = 0) -> str:
        transaction = fixture("balance_transaction")
        transaction.update(
            id=self._new_id("txn"),
            amount=amount,
            fee=fee,
            fee_details=[],
            net=amount - fee,
            currency=currency,
            source=source,
            type=kind,
            reporting_category=kind,
            created=self._tick(),
            available_on=self.clock,
            description=None,
        )
        self.objects["balance_transaction"][transaction["id"]] = transaction
        self.balance_transactions.append(transaction)
        return str(transaction["id"])

    # -- payments -------------------------------------------------------------

    def _payment_intent_create(self, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        intent = fixture("payment_intent")
        intent_id = self._new_id("pi")
        intent.update(
            id=intent_id,
            amount=self._amount(params),
            amount_received=0,
            currency=str(params.get("currency", "")).lower() or "eur",
            metadata=params.get("metadata", {}),
            description=params.get("description"),
            client_secret=f"{intent_id}_secret_fake",
            created=self._tick(),
            canceled_at=None,
            last_payment_error=None,
            latest_charge=None,
            next_action=None,
            transfer_data=None,
            processing=None,
            status="requires_payment_method",
        )
        self.objects["payment_intent"][intent_id] = intent
        return intent

    def _refund_create(self, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise _invalid("Missing required param: payment_intent.", param="payment_intent")
        intent = self.get("payment_intent", intent_id)
        if intent["status"] != "succeeded":
            raise _invalid("This PaymentIntent has no successful charge to refund.", code="charge_not_refundable")
        charge = self.get("charge", intent["latest_charge"])
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        amount = self._amount(params) if "amount" in params else remaining
        if amount > remaining:
            raise _invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                param="amount",
                code="amount_too_large",
            )
        refund = fixture("refund")
        refund_id = self._new_id("re")
        refund.update(
            id=refund_id,
            amount=amount,
            charge=charge["id"],
            payment_intent=intent_id,
            currency=intent["currency"],
            metadata=params.get("metadata", {}),
            reason=params.get("reason"),
            created=self._tick(),
            status="succeeded",
        )
        refund["balance_transaction"] = self._balance_transaction(
            kind="refund", amount=-amount, currency=intent["currency"], source=refund_id
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        self.objects["refund"][refund_id] = refund
        return refund

    def refund_fail(self, refund_id: str, *, reason: str = "expired_or_canceled_card") -> dict[str, Any]:
        """The card's bank returned a refund (days later): the money is back in the balance."""
        refund = self.get("refund", refund_id)
        refund.update(status="failed", failure_reason=reason)
        refund["failure_balance_transaction"] = self._balance_transaction(
            kind="refund_failure", amount=refund["amount"], currency=refund["currency"], source=refund_id
        )
        charge = self.get("charge", refund["charge"])
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        return copy.deepcopy(refund)

    def payment_intent_succeed(self, intent_id: str, *, fee: int = 0) -> dict[str, Any]:
        """The customer paid: a charge, a balance transaction, the intent succeeded."""
        intent = self.get("payment_intent", intent_id)
        charge = fixture("charge")
        charge_id = self._new_id("ch")
        charge.update(
            id=charge_id,
            amount=intent["amount"],
            amount_captured=intent["amount"],
            amount_refunded=0,
            captured=True,
            currency=intent["currency"],
            payment_intent=intent_id,
            metadata=intent["metadata"],
            created=self._tick(),
            refunded=False,
            status="succeeded",
        )
        charge["refunds"] = {"object": "list", "data": [], "has_more": False, "url": f"/v1/charges/{charge_id}/refunds"}
        charge["balance_transaction"] = self._balance_transaction(
            kind="charge", amount=intent["amount"], currency=intent["currency"], source=charge_id, fee=fee
        )
        self.objects["charge"][charge_id] = charge
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge_id)
        return copy.deepcopy(intent)

    def dispute_create(self, charge_id: str, *, status: str = "needs_response", fee: int = 15_00) -> dict[str, Any]:
        """The card payer disputes a charge; unless it is an inquiry (``warning_*``) Stripe
        takes the disputed amount back at once with its dispute fee (an ``adjustment``
        balance transaction, amount negative, ``fee`` 15.00 by default, ``fee_details`` one
        ``stripe_fee`` "Dispute fee"); the dispute lists it expanded, as Stripe does."""
        charge = self.get("charge", charge_id)
        dispute = fixture("dispute")
        dispute.update(
            id=self._new_id("dp"),
            charge=charge_id,
            payment_intent=charge.get("payment_intent"),
            amount=charge["amount"],
            currency=charge["currency"],
            status=status,
            created=self._tick(),
            balance_transactions=[],
        )
        if not status.startswith("warning"):
            dispute["balance_transactions"].append(
                self._dispute_transaction(
                    amount=-charge["amount"], currency=charge["currency"], dispute=dispute, fee=fee
                )
            )
        self.objects["dispute"][dispute["id"]] = dispute
        return copy.deepcopy(dispute)

    def dispute_close(self, dispute_id: str, *, won: bool, fee_returned: int = 0) -> dict[str, Any]:
        """The bank decided: a won dispute gives the money back (a positive adjustment),
        and where Stripe refunds its dispute fee, that too (a negative ``fee``)."""
        dispute = self.get("dispute", dispute_id)
        if won and dispute["balance_transactions"]:
            dispute["balance_transactions"].append(
                self._dispute_transaction(
                    amount=dispute["amount"], currency=dispute["currency"], dispute=dispute, fee=-fee_returned
                )
            )
        dispute["status"] = "won" if won else "lost"
        return copy.deepcopy(dispute)

    def _dispute_transaction(self, *, amount: int, currency: str, dispute: dict[str, Any], fee: int) -> dict[str, Any]:
        transaction_id = self._balance_transaction(
            kind="adjustment", amount=amount, currency=currency, source=dispute["id"], fee=fee
        )
        transaction = self.objects["balance_transaction"][transaction_id]
        transaction.update(
            description=f"Chargeback withdrawal for {dispute['charge']}"
            if amount < 0
            else f"Chargeback reversal for {dispute['charge']}",
            reporting_category="dispute" if amount < 0 else "dispute_reversal",
            fee_details=[
                {
                    "amount": fee,
                    "application": None,
                    "currency": currency,
                    "description": "Dispute fee",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else [],
        )
        return copy.deepcopy(transaction)

    def payment_intent_fail(self, intent_id: str, *, message: str = "Your card was declined.") -> dict[str, Any]:
        """A payment attempt failed; the intent waits for another payment method."""
        intent = self.get("payment_intent", intent_id)
        intent.update(
            status="requires_payment_method",
            last_payment_error={"type": "card_error", "code": "card_declined", "message": message},
        )
        return copy.deepcopy(intent)

    # -- Connect, transfers and payouts ---------------------------------------

    def _transfer_create(self, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        destination = params.get("destination")
        if not destination:
            raise _invalid("Missing required param: destination.", param="destination")
        self.get("account", destination)
        amount = self._amount(params)
        transfer = fixture("transfer")
        transfer_id = self._new_id("tr")
        currency = str(params.get("currency", "eur")).lower()
        transfer.update(
            id=transfer_id,
            amount=amount,
            currency=currency,
            destination=destination,
            destination_payment=self._new_id("py"),
            metadata=params.get("metadata", {}),
            description=params.get("description"),
            transfer_group=params.get("transfer_group"),
            created=self._tick(),
        )
        transfer["reversals"] = {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/transfers/{transfer_id}/reversals",
        }
        transfer["balance_transaction"] = self._balance_transaction(
            kind="transfer", amount=-amount, currency=currency, source=transfer_id
        )
        self.objects["transfer"][transfer_id] = transfer
        return transfer

    def _payout_create(self, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        amount = self._amount(params)
        payout = fixture("payout")
        payout_id = self._new_id("po")
        currency = str(params.get("currency", "eur")).lower()
        payout.update(
            id=payout_id,
            amount=amount,
            currency=currency,
            automatic=False,
            metadata=params.get("metadata", {}),
            description=params.get("description"),
            created=self._tick(),
            status="pending",
            balance_transaction=None,
        )
        payout["stripe_account"] = account  # not a Stripe field: lets tests see whose balance paid
        if account is None:
            payout["balance_transaction"] = self._balance_transaction(
                kind="payout", amount=-amount, currency=currency, source=payout_id
            )
        self.objects["payout"][payout_id] = payout
        return payout

    def payout_settle(self, payout_id: str, *, status: str = "paid", failure_code: str | None = None) -> dict:
        """The bank accepted (``paid``) or returned (``failed``) a payout."""
        payout = self.get("payout", payout_id)
        payout["status"] = status
        if status == "failed":
            payout["failure_code"] = failure_code or "account_closed"
            payout["failure_message"] = "The bank account has been closed."
        return copy.deepcopy(payout)

    def _account_create(self, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        created = fixture("account")
        account_id = f"acct_fake{self._tag}{next(self._ids):06d}"
        created.update(
            id=account_id,
            type=params.get("type", "express"),
            country=params.get("country", "DE"),
            email=params.get("email"),
            metadata=params.get("metadata", {}),
            created=self._tick(),
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
            default_currency=str(params.get("default_currency", "eur")).lower(),
        )
        created["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
        self.objects["account"][account_id] = created
        return created

    def account_complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The worker finished Stripe's onboarding: the account can receive payouts."""
        account = self.get("account", account_id)
        account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
        account["requirements"].update(currently_due=[], eventually_due=[], past_due=[], disabled_reason=None)
        return copy.deepcopy(account)

    def _account_link_create(self, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        target = params.get("account")
        if not target:
            raise _invalid("Missing required param: account.", param="account")
        self.get("account", target)
        link = fixture("account_link")
        link.update(
            created=self._tick(),
            expires_at=self.clock + 300,
            url=f"https://connect.stripe.com/setup/s/{target}/{next(self._ids)}",
        )
        return link

    # -- payouts block: transfer reversals (worker payouts, issue 5) -----------

    def _transfer_reversal_create(self, transfer_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Returns (the rest of) a transfer from the connected account to the platform."""
        transfer = self.get("transfer", transfer_id)
        remaining = transfer["amount"] - transfer.get("amount_reversed", 0)
        amount = self._amount(params) if "amount" in params else remaining
        if remaining <= 0 or amount > remaining:
            raise _invalid(
                f"Transfer {transfer_id} has only {remaining} left to reverse.", code="transfer_already_reversed"
            )
        reversal = fixture("transfer_reversal")
        reversal_id = self._new_id("trr")
        reversal.update(
            id=reversal_id,
            amount=amount,
            currency=transfer["currency"],
            transfer=transfer_id,
            metadata=params.get("metadata", {}),
            created=self._tick(),
            destination_payment_refund=None,
            source_refund=None,
        )
        reversal["balance_transaction"] = self._balance_transaction(
            kind="transfer_refund", amount=amount, currency=transfer["currency"], source=reversal_id
        )
        transfer["amount_reversed"] = transfer.get("amount_reversed", 0) + amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].append(reversal)
        self.objects["transfer_reversal"][reversal_id] = reversal
        return reversal

    # -- end of the payouts block ----------------------------------------------

    # -- balance --------------------------------------------------------------

    def _balance_transactions_list(self, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        created = params.get("created", {})
        rows = sorted(self.balance_transactions, key=lambda row: (row["created"], row["id"]), reverse=True)
        if isinstance(created, dict):
            for operator, test in (
                ("gte", lambda a, b: a >= b),
                ("gt", lambda a, b: a > b),
                ("lte", lambda a, b: a <= b),
                ("lt", lambda a, b: a < b),
            ):
                if operator in created:
                    bound = int(created[operator])
                    rows = [row for row in rows if test(row["created"], bound)]
        if "type" in params:
            rows = [row for row in rows if row["type"] == params["type"]]
        if "starting_after" in params:
            ids = [row["id"] for row in rows]
            position = ids.index(params["starting_after"]) + 1 if params["starting_after"] in ids else len(ids)
            rows = rows[position:]
        limit = int(params.get("limit", 10))
        return {
            "object": "list",
            "data": rows[:limit],
            "has_more": len(rows) > limit,
            "url": "/v1/balance_transactions",
        }

    def _balance(self, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        balance = fixture("balance")
        totals: dict[str, int] = defaultdict(int)
        for row in self.balance_transactions:
            totals[row["currency"]] += row["net"]
        balance["available"] = [
            {"amount": amount, "currency": currency, "source_types": {"card": amount}}
            for currency, amount in sorted(totals.items())
        ]
        balance["pending"] = []
        return balance

    # -- webhooks -------------------------------------------------------------

    def event(
        self, event_type: str, data_object: dict[str, Any], *, event_id: str | None = None, account: str | None = None
    ) -> dict[str, Any]:
        """A Stripe event in the real envelope, as a webhook would carry it."""
        event = fixture("event")
        event.update(
            id=event_id or self._new_id("evt"),
            type=event_type,
            created=self._tick(),
            data={"object": copy.deepcopy(data_object)},
            api_version=stripe.api_version,
            pending_webhooks=1,
        )
        if account is not None:
            event["account"] = account
        return event


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``."""
    moment = int(time.time()) if timestamp is None else timestamp
    signed = f"{moment}.{payload.decode()}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def signed_event(event: dict[str, Any], secret: str) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    return payload, sign(payload, secret)
