"""Recomputes every balance from the transfers; exits non-zero on any disagreement."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger.selectors import ledger_check


class Command(BaseCommand):
    help = "Check that every account's totals equal what its transfers give, and that the ledger sums to zero."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_check()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The ledger has {len(problems)} discrepancies.", returncode=1)
        self.stdout.write("The ledger is consistent: every balance matches its transfers.")
