"""A weekly payout run on PostgreSQL of N workers spread evenly over the five rails
(SEPA, Stripe Connect, Stripe Global Payouts, PayPal, Wise), against the same number
of bare ``ledger.services.transfer(pending=True)`` reservations.

The run does for every worker what production does: lock, balance check, a quote
from the rail (Stripe's PayoutIntent and Wise's quote are HTTP calls, here answered by
the in-process fakes of tests/fakes through the real ``stripe`` library and
``requests``), payout row, reservation, audit row; jobs are eager, so each API
rail's submission (Stripe transfer and bank payout, PayoutIntent confirmation,
PayPal batch, Wise transfer and funding) runs after its chunk commits and is timed
with the run. Then the run is repeated (nothing paid twice) and the ledger and
every payout are verified.

Run with ``python bench/run.py payouts_global``.
"""

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WORKERS = int(os.environ.get("BENCH_PAYOUT_WORKERS", "1000"))
EARNED = 25_00
RAILS = ("sepa", "stripe_connect", "stripe_global", "paypal", "wise")
COUNTRY = {"sepa": "DE", "stripe_connect": "FR", "stripe_global": "IN", "paypal": "VE", "wise": "PK"}


def _providers() -> tuple[Any, Any, Any]:
    from django.conf import settings

    from payments import stripe_gateway
    from payouts.rails import paypal_client, wise_client
    from tests.fakes.paypal_api import FakePaypal
    from tests.fakes.stripe_v2 import FakeStripeV2
    from tests.fakes.wise_api import FakeWise

    stripe, paypal, wise = FakeStripeV2(), FakePaypal(), FakeWise()
    settings.STRIPE_SECRET_KEY = "sk_test_bench"
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_GLOBAL_PAYOUTS_FINANCIAL_ACCOUNT = "fa_bench"
    settings.STRIPE_EVENT_DESTINATION_SECRET = "whsec_bench"
    settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET = paypal.client_id, paypal.client_secret
    settings.PAYPAL_WEBHOOK_ID, settings.PAYPAL_API_BASE = paypal.webhook_id, "https://api-m.paypal.bench"
    settings.WISE_API_TOKEN, settings.WISE_PROFILE_ID = wise.token, wise.profile_id
    settings.WISE_WEBHOOK_PUBLIC_KEY, settings.WISE_API_BASE = wise.public_key_pem, "https://api.wise.bench"
    stripe_gateway.use_http_client(stripe)
    paypal_client.use_transport(paypal)
    wise_client.use_transport(wise)
    return stripe, paypal, wise


def _seed(stripe: Any, wise: Any) -> list[Any]:
    from django.db import transaction

    from accounts.models import User, WorkerProfile
    from ledger import accounts
    from ledger.services import transfer
    from payouts.models import ConnectedAccount, GlobalRecipient, PayoutMethod

    workers = User.objects.bulk_create(
        [User(username=f"global-payout-worker-{n}", email=f"w{n}@global.bench") for n in range(WORKERS)]
    )
    rail_of = {worker.pk: RAILS[n % len(RAILS)] for n, worker in enumerate(workers)}
    WorkerProfile.objects.bulk_create(
        [WorkerProfile(user=worker, country=COUNTRY[rail_of[worker.pk]]) for worker in workers]
    )
    methods, connected, recipients = [], [], []
    for worker in workers:
        rail = rail_of[worker.pk]
        country = COUNTRY[rail]
        if rail == "sepa":
            destination = {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "name": f"Worker {worker.pk}"}
        elif rail == "stripe_connect":
            account = stripe._account_create({"country": country, "type": "express"}, None)
            stripe.account_complete_onboarding(account["id"])
            connected.append(
                ConnectedAccount(user=worker, stripe_account_id=account["id"], country=country, payouts_enabled=True)
            )
            destination = {"account": account["id"]}
        elif rail == "stripe_global":
            account = stripe._account_create_v2(
                {
                    "identity": {"country": "in"},
                    "configuration": {"recipient": {"capabilities": {"bank_accounts": {"local": {}}}}},
                }
            )
            stripe.recipient_activate(account["id"])
            recipients.append(
                GlobalRecipient(user=worker, stripe_account_id=account["id"], country="IN", bank_status="active")
            )
            destination = {"account": account["id"], "currency": "INR"}
        elif rail == "paypal":
            destination = {"email": f"w{worker.pk}@global.bench"}
        else:
            _, created = wise._route("POST", "/v1/accounts", {"currency": "PKR", "type": "pakistan"})
            destination = {"recipient": str(created["id"]), "currency": "PKR", "country": "PK"}
        methods.append(
            PayoutMethod(user=worker, rail=rail, country=country, destination=destination, display=f"{rail} bench")
        )
    ConnectedAccount.objects.bulk_create(connected)
    GlobalRecipient.objects.bulk_create(recipients)
    PayoutMethod.objects.bulk_create(methods)
    bank = accounts.external_bank()
    with transaction.atomic():
        for worker in workers:
            transfer(
                transfer_id=f"global-bench:earned:{worker.pk}",
                debit=bank,
                credit=accounts.worker_earnings(worker),
                amount=EARNED,
                code="bonus",
            )
    return workers


def run() -> list[dict[str, str]]:
    from django.conf import settings

    if not settings.IS_POSTGRES:
        raise SystemExit("bench/payouts_global.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    from django.db import transaction
    from django.db.models import Count

    from ledger import accounts
    from ledger.selectors import ledger_check
    from ledger.services import transfer
    from payouts import services
    from payouts.models import Payout
    from payouts.reconciliation import payouts_ledger_check
    from payouts.services import RUN_CHUNK

    stripe, _paypal, wise = _providers()
    workers = _seed(stripe, wise)
    bank = accounts.external_bank()
    started = time.perf_counter()
    for start in range(0, len(workers), RUN_CHUNK):
        with transaction.atomic():
            for worker in workers[start : start + RUN_CHUNK]:
                transfer(
                    transfer_id=f"global-bench:reference:{worker.pk}",
                    debit=accounts.worker_earnings(worker),
                    credit=bank,
                    amount=1,
                    code="bench",
                    pending=True,
                )
    reference_seconds = time.perf_counter() - started

    started = time.perf_counter()
    run = services.payout_run_execute(frequency="weekly", at=datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    run_seconds = time.perf_counter() - started
    by_rail = dict(Payout.objects.values_list("rail").annotate(n=Count("id")))
    submitted = Payout.objects.filter(state="submitted").count()

    started = time.perf_counter()
    again = services.payout_run_execute(frequency="weekly", at=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    rerun_seconds = time.perf_counter() - started
    problems = ledger_check() + payouts_ledger_check()
    ratio = run_seconds / reference_seconds
    spread = ", ".join(f"{rail} {by_rail.get(rail, 0)}" for rail in RAILS)
    return [
        {
            "what": f"payouts: weekly run of {WORKERS:,} workers over five rails ({spread}); quotes and API "
            "submissions through in-process fakes included",
            "figure": f"{run.payouts_created / run_seconds:,.0f} payouts/s "
            f"({run_seconds:.2f} s, {submitted} submitted)",
            "reference": f"{WORKERS:,} bare pending ledger transfers: {reference_seconds:.2f} s",
            "ratio": f"{ratio:.2f}x",
            "goal": "<= 3x bare reservations" + (" (met)" if ratio <= 3 else " (MISSED)"),
        },
        {
            "what": "payouts: the five-rail run again (beat fired twice)",
            "figure": f"{rerun_seconds:.2f} s, {Payout.objects.count() - run.payouts_created} new payouts",
            "reference": f"first run {run_seconds:.2f} s",
            "ratio": f"{rerun_seconds / run_seconds:.2f}x",
            "goal": "no payout twice" + (" (met)" if again.pk == run.pk else " (MISSED)"),
        },
        {
            "what": "payouts: ledger_verify and every payout against its ledger rows after the run",
            "figure": f"{len(problems)} discrepancies",
            "reference": "0",
            "ratio": "-",
            "goal": "0" + (" (met)" if not problems else " (MISSED)"),
        },
    ]


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root)]
    from bench.run import main

    sys.exit(main(["payouts_global"]))
