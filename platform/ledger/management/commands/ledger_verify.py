"""Recomputes every balance from the transfers; exits non-zero on any disagreement.

Apps above the ledger add checks of their own records against it without the ledger
importing them: each module in ``CHECK_MODULES`` defines ``LEDGER_CHECKS``, functions
returning a list of problems (payouts: every payout's state against its ledger rows).
"""

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger.selectors import ledger_check

CHECK_MODULES: tuple[str, ...] = ("payouts.reconciliation", "governance.dividends")


def app_checks() -> list[str]:
    problems: list[str] = []
    for module_name in CHECK_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name != module_name:
                raise
            continue
        for check in getattr(module, "LEDGER_CHECKS", ()):
            problems.extend(check())
    return problems


class Command(BaseCommand):
    help = "Check that every account's totals equal what its transfers give, and that the ledger sums to zero."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_check() + app_checks()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The ledger has {len(problems)} discrepancies.", returncode=1)
        self.stdout.write("The ledger is consistent: every balance matches its transfers.")
