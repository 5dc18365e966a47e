"""Ledger test helpers: money enters the way it does in production, from a rail."""

import itertools

from accounts.models import Organisation
from ledger import accounts
from ledger.models import Transfer
from ledger.services import transfer

_deposits = itertools.count(1)


def fund(organisation: Organisation, amount: int) -> Transfer:
    """Credits ``amount`` to the organisation's available balance from Stripe."""
    return transfer(
        transfer_id=f"test-deposit:{next(_deposits)}:{organisation.pk}",
        debit=accounts.external_stripe(),
        credit=accounts.org_available(organisation),
        amount=amount,
        code="deposit",
    )
