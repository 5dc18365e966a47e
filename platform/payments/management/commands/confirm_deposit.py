"""``python manage.py confirm_deposit --org SLUG --amount 100.00 --reference REF``

The treasurer's shell way to confirm a bank transfer that arrived: credits the
amount (major units of the platform currency) and prints the new available balance.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import AppError
from core.money import format_amount, parse_major, platform_currency
from payments import selectors, services


class Command(BaseCommand):
    help = "Confirm a bank deposit that arrived and print the organisation's new available balance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--amount", required=True, help="What arrived, in major units, e.g. 100.00.")
        parser.add_argument("--reference", required=True, help="The deposit's reference code, e.g. COOP-7KQ2-9XJD.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            amount = parse_major(options["amount"], platform_currency())
            deposit = selectors.deposit_for_reference(organisation_slug=options["org"], reference=options["reference"])
            deposit = services.deposit_bank_confirm(deposit=deposit, amount=amount, actor=None, via="command")
        except AppError as error:
            raise CommandError(f"{error.message} (code: {error.code}); nothing was changed.") from error
        figures = selectors.organisation_balance(organisation=deposit.organisation)
        self.stdout.write(
            f"Confirmed {deposit.reference}: {format_amount(deposit.credited_amount, deposit.currency)} "
            f"credited to {deposit.organisation.slug}. "
            f"Available balance: {format_amount(figures.available, figures.currency)}"
        )
