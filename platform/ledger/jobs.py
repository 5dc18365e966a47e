"""Ledger jobs: the nightly proof that every balance matches its transfers."""

import logging

from celery import shared_task

from ledger.selectors import ledger_check

logger = logging.getLogger(__name__)


@shared_task(name="ledger.jobs.verify")
def verify() -> int:
    """Recomputes every balance from the transfers; logs each disagreement as an
    error (for alerting) and returns how many there were. Read-only, so safe to retry."""
    problems = ledger_check()
    for problem in problems:
        logger.error("ledger discrepancy: %s", problem)
    if not problems:
        logger.info("ledger verified: every balance matches its transfers")
    return len(problems)
