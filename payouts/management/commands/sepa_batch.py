"""The treasurer's SEPA payout files from the command line.

    manage.py sepa_batch create --treasurer alice
    manage.py sepa_batch xml 7 --treasurer alice --out payouts-7.xml
    manage.py sepa_batch sent 7 --treasurer alice
    manage.py sepa_batch paid COOP-PAYOUT-42 --treasurer alice
    manage.py sepa_batch failed COOP-PAYOUT-43 --treasurer alice --reason "account closed"

Payments are named by payout id or by the EndToEndId the bank reports.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from core.errors import AppError
from core.money import format_amount
from payouts import selectors, services


def _payout_id(text: str) -> int:
    digits = text.removeprefix("COOP-PAYOUT-")
    if not digits.isdigit():
        raise CommandError(f"'{text}' is neither a payout id nor an EndToEndId like COOP-PAYOUT-42.")
    return int(digits)


class Command(BaseCommand):
    help = "Create, download and settle SEPA payout batches (treasurer only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "xml", "sent", "paid", "failed"])
        parser.add_argument("target", nargs="?", help="batch id (xml, sent) or payment (paid, failed)")
        parser.add_argument("--treasurer", required=True, help="user name of the treasurer acting")
        parser.add_argument("--out", help="file to write the XML to (default: standard output)")
        parser.add_argument("--reason", default="", help="why the bank returned the payment (failed)")

    def handle(self, *args: Any, **options: Any) -> None:
        treasurer = User.objects.filter(username=options["treasurer"]).first()
        if treasurer is None:
            raise CommandError(f"No user named '{options['treasurer']}'.")
        action, target = options["action"], options["target"]
        if action != "create" and not target:
            raise CommandError(f"'{action}' needs a batch id or a payment.")
        try:
            self._run(action, target, treasurer, options)
        except AppError as error:
            raise CommandError(f"{error.code}: {error.message}") from None

    def _run(self, action: str, target: str | None, treasurer: User, options: dict[str, Any]) -> None:
        if action == "create":
            batch = services.sepa_batch_create(actor=treasurer)
            self.stdout.write(
                f"Batch {batch.pk} ({batch.message_id}): {batch.payment_count} payments, "
                f"{format_amount(batch.total_amount, batch.currency)}."
            )
        elif action in ("xml", "sent"):
            if not str(target).isdigit():
                raise CommandError(f"'{target}' is not a batch id.")
            batch = selectors.treasury_access_sepa_batch(user=treasurer, batch_id=int(str(target)))
            if action == "xml":
                document = services.sepa_batch_file(batch=batch)
                if options["out"]:
                    Path(options["out"]).write_bytes(document)
                    self.stdout.write(f"Wrote {options['out']} ({batch.message_id}).")
                else:
                    self.stdout.write(document.decode())
            else:
                batch = services.sepa_batch_mark_sent(batch_id=batch.pk, actor=treasurer)
                self.stdout.write(f"Batch {batch.pk} marked sent.")
        elif action == "paid":
            payout = services.sepa_payment_mark_paid(payout_id=_payout_id(str(target)), actor=treasurer)
            self.stdout.write(f"Payout {payout.pk} marked paid.")
        else:
            payout = services.sepa_payment_mark_failed(
                payout_id=_payout_id(str(target)), actor=treasurer, reason=options["reason"]
            )
            self.stdout.write(f"Payout {payout.pk} marked failed; {payout.amount} returned to the worker's balance.")
