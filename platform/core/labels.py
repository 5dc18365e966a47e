"""Human words for the internal names that states, kinds, roles and settings are stored
under. Pages never show a stored name such as ``awaiting_response``: the ``label`` template
filter looks it up here, and a name not listed yet is at least written as words."""

import logging
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

logger = logging.getLogger(__name__)

LABELS: dict[str, Promise] = {
    # Batches and assignments
    "draft": _("Draft"),
    "published": _("Published"),
    "paused": _("Paused"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    "expired": _("Expired"),
    "open": pgettext_lazy("state", "Open"),
    "accepted": _("Being worked on"),
    "submitted": _("Submitted"),
    "approved": _("Approved"),
    "rejected": _("Rejected"),
    "disputed": _("Disputed"),
    "settled": _("Settled"),
    "refunded": _("Refunded to the requester"),
    "active": _("Active"),
    "returned": pgettext_lazy("state", "Returned"),
    "bonus": _("Bonus"),
    "fair_pay_top_up": _("Fair-pay top-up"),
    # Rejection reasons (``tasks.states.REJECTION_REASONS``)
    "did_not_follow_instructions": _("The instructions were not followed."),
    "incomplete": _("The work is incomplete."),
    "failed_gold_question": _("A disclosed check question was answered wrongly."),
    "nonsensical_answers": _("The answers do not make sense for the task."),
    "duplicate_submission": _("The same work was submitted more than once."),
    "other": _("Another reason, explained in the text."),
    # Verification refusal reasons (``accounts.reasons``; the published sentence is beside each)
    "identity_not_established": _("Identity not established"),
    "documents_inconsistent": _("Documents inconsistent"),
    "registration_not_found": _("Registration not found"),
    "sanctioned_or_prohibited": _("Sanctioned or prohibited"),
    "responsible_person_unconfirmed": _("Responsible person unconfirmed"),
    # Suspension reasons (``accounts.reasons``)
    "fraudulent_work": _("Fraudulent work"),
    "account_sharing": _("Account sharing"),
    "harassment": _("Harassment"),
    "payment_fraud": _("Payment fraud"),
    "legal_order": _("Legal order"),
    # Disputes
    "rejection": _("Disputed rejection"),
    "mass_rejection": _("Mass rejection"),
    "suspension": _("Suspension appeal"),
    "awaiting_response": _("Waiting for the requester's answer"),
    "offer_made": _("Offer made"),
    "evidence": _("Evidence period"),
    "voting": _("Voting"),
    "decided": pgettext_lazy("state", "Decided"),
    "closed": _("Closed"),
    "pay_full": _("Paid in full"),
    "pay_partial": _("Paid in part"),
    "uphold": _("Rejection upheld"),
    "requester_accepted": _("The requester accepted the dispute"),
    "offer_accepted": _("The worker accepted the offer"),
    "requester_silent": _("The requester did not answer in time"),
    "panel": _("Decided by a panel"),
    "appeal_panel": _("Decided by an appeal panel"),
    "split": _("Heard separately"),
    "held": _("Held"),
    "executed": _("Carried out"),
    "serving": _("Serving"),
    "voted": _("Voted"),
    "replaced": _("Replaced"),
    "worker": _("Worker"),
    "requester": _("Requester"),
    # Governance
    "rule_change": _("Rule change"),
    "policy": _("Policy"),
    "bylaw": _("Bylaw amendment"),
    "appointment": _("Staff appointment"),
    "discussion": _("In discussion"),
    "adopted": _("Adopted"),
    "failed_quorum": _("Failed: too few votes"),
    "scheduled": _("Adopted, takes effect later"),
    "in_effect": _("In effect"),
    "withdrawn": _("Withdrawn"),
    "yes": _("Yes"),
    "no": _("No"),
    "abstain": _("Abstain"),
    "operational": _("operational decision"),
    "economic": _("economic decision"),
    "dispute_procedure": _("dispute-procedure decision"),
    "bylaws": _("bylaw decision"),
    "appointments": _("staff appointment decision"),
    "dispatch": _("fair-dispatch decision"),
    "Fair dispatch": _("fair-dispatch decision"),
    "Operational": _("operational decision"),
    "Economic": _("economic decision"),
    "Dispute procedure": _("dispute-procedure decision"),
    "Bylaws": _("bylaw decision"),
    "Staff appointments": _("staff appointment decision"),
    "current": _("In force"),
    "past": _("Replaced"),
    "pending": _("Pending"),
    # Payouts and money
    "created": _("Created"),
    "paid": _("Paid"),
    "failed": _("Failed"),
    "sent": _("Sent"),
    "weekly": _("weekly"),
    "daily": _("daily"),
    "on_request": _("only when I ask"),
    "coop": _("the co-op"),
    "stripe": _("Card (Stripe)"),
    "bank": _("Bank transfer"),
    "stripe_refund": _("Card refund"),
    "succeeded": _("Succeeded"),
    "awaiting_transfer": _("Waiting for your transfer"),
    "confirmed": _("Confirmed"),
    "requested": _("Requested"),
    "received": _("Received"),
    "processed": _("Processed"),
    "delivered": _("Delivered"),
    "missing_in_ledger": _("Moved by the payout service, missing in the ledger"),
    "missing_at_rail": _("In the ledger, never moved by the payout service"),
    "amount_mismatch": _("Amounts differ"),
    "unknown_transaction": _("Unknown transaction"),
    "won": _("Won"),
    "lost": _("Lost"),
    # Accounts and staff
    "owner": _("Owner"),
    "reviewer": _("Reviewer"),
    "finance": _("Finance"),
    "suspended": _("Suspended"),
    "left": _("Left"),
    "more_information": _("More information asked for"),
    "verified": _("Verified"),
    "refused": _("Refused"),
    "verifier": _("Verifier"),
    "treasurer": _("Treasurer"),
    "moderator": _("Moderator"),
    "member": _("Member"),
    "supporter": _("Supporter"),
    "unverified": _("Not verified"),
    "country": _("Country"),
    "languages": _("Languages"),
    "demographics": _("About you"),
    # Saved searches and notifications
    "none": _("none"),
    "inbox": _("Inbox only"),
    "email": _("Inbox and e-mail"),
    "push": _("Inbox and browser notification"),
    "immediate": _("at once"),
    "digest": _("in the daily digest"),
    "off": _("off"),
    # Rule units
    "hours": _("hours"),
    "days": _("days"),
    "minor units per hour": pgettext_lazy("rule unit", "per hour"),
    "basis points of the reward": pgettext_lazy("rule unit", "hundredths of a percent of the reward"),
}


# The kinds of notification, as the settings page names them.
CATEGORY_LABELS: dict[str, Promise] = {
    "rejection": _("My work was rejected"),
    "rejection_deadline": _("Last days to dispute a rejection"),
    "dispute_opened": _("A worker disputes my rejection"),
    "response_due": _("My answer to a dispute is due"),
    "mass_case_opened": _("My rejected work is held in a case"),
    "juror_drawn": _("I was drawn as a juror"),
    "juror_vote_due": _("My vote as a juror is due"),
    "juror_replaced": _("I was replaced as a juror"),
    "case_decided": _("A case was decided"),
    "proposal_discussion": _("A proposal is open for discussion"),
    "proposal_voting": _("Voting opened on a proposal"),
    "proposal_closing": _("Voting on a proposal closes soon"),
    "rule_adopted": _("A rule change was adopted"),
    "rule_in_effect": _("A rule change took effect"),
    "payout_sent": _("A payout was sent"),
    "payout_paid": _("A payout arrived"),
    "payout_failed": _("A payout failed"),
    "bonus": _("I received a bonus"),
    "qualification_granted": _("I received a qualification"),
    "qualification_revoked": _("A qualification was taken away"),
    "suspension": _("My account was suspended"),
    "verification": _("News about my organisation's verification"),
    "saved_search_match": _("New work matches a saved search"),
    "task_message": _("A message about a task"),
    "dispatch_given": _("I was given a slot in a draw"),
    "dispatch_not_drawn": _("I was not drawn in a wave I applied to"),
}


def category_label(key: str) -> str:
    found = CATEGORY_LABELS.get(key)
    return str(found) if found is not None else key.replace("_", " ")


def label(value: object) -> str:
    """The human label of a stored name; an unknown one is written as words, never raw."""
    if value is None:
        return ""
    key = str(value)
    found = LABELS.get(key)
    if found is not None:
        return str(found)
    # A stored name with no label reads as English words on every page: a gap to close here.
    logger.warning("No label for the stored name %r; it is shown as words.", key)
    return key.replace("_", " ")


# A count in a rule's unit, e.g. "48 hours", "1 juror".
UNIT_COUNTS: dict[str, Any] = {
    "hours": ngettext_lazy("%(count)d hour", "%(count)d hours", "count"),
    "days": ngettext_lazy("%(count)d day", "%(count)d days", "count"),
    "days (0 = no activity required)": ngettext_lazy("%(count)d day", "%(count)d days", "count"),
    "minutes": ngettext_lazy("%(count)d minute", "%(count)d minutes", "count"),
    "jurors": ngettext_lazy("%(count)d juror", "%(count)d jurors", "count"),
    "rejections": ngettext_lazy("%(count)d rejection", "%(count)d rejections", "count"),
    "distinct workers": ngettext_lazy("%(count)d worker", "%(count)d workers", "count"),
    "changes per year": ngettext_lazy("%(count)d change a year", "%(count)d changes a year", "count"),
    "waves": ngettext_lazy("%(count)d wave", "%(count)d waves", "count"),
    "attempts": ngettext_lazy("%(count)d attempt", "%(count)d attempts", "count"),
    "slots": ngettext_lazy("%(count)d slot", "%(count)d slots", "count"),
}


def counted(unit: str, value: int) -> str:
    """``counted("hours", 48)`` -> ``48 hours`` in the reader's language."""
    phrase = UNIT_COUNTS.get(unit)
    if phrase is None:
        return f"{value} {label(unit)}"
    return str(phrase % {"count": value})


# The governed rules' names and descriptions as people read them; the stored ones (written
# once by the founding migrations) are the English fallback for a rule added later.
RULE_TEXTS: dict[str, tuple[Promise, Promise]] = {
    "appeal_jury_size": (_("Appeal jury size"), _("Jurors drawn for an appeal panel (larger and fresh).")),
    "appeal_window_hours": (
        _("Appeal window"),
        _("Time after a decision during which either party may appeal once."),
    ),
    "approval_rate_window_days": (
        _("Approval-rate window"),
        _("Only final decisions within this recent window count in a worker's approval rate."),
    ),
    "auto_approval_hours": (
        _("Auto-approval window"),
        _("A submission not reviewed within this time is approved and paid."),
    ),
    "auto_approval_hours_max": (
        _("Auto-approval maximum"),
        _("The longest auto-approval window a requester may set on a batch."),
    ),
    "card_dispute_reserve": (
        _("Card dispute reserve"),
        _(
            "The most the co-op's reserve covers of card disputes a requester's balance cannot pay; workers' "
            "earnings are never touched."
        ),
    ),
    "card_funds_holding_days": (
        _("Card money holding period"),
        _(
            "Balance funded by card can leave only as a refund to that card until this many days after the "
            "payment (card disputes can come for about 120 days); after that it may be withdrawn by bank "
            "transfer too."
        ),
    ),
    "conflict_lookback_days": (
        _("Conflict look-back"),
        _("Members who worked for a requester in this period are not drawn for its cases."),
    ),
    "contest_window_days": (
        _("Contest window"),
        _("How long a worker has to dispute a rejection before it becomes final."),
    ),
    "display_name_changes_per_year": (
        _("Requester name changes"),
        _("How often a requester may change its public display name in a year."),
    ),
    "evidence_hours": (_("Evidence period"), _("Time for both parties to add evidence once a panel is drawn.")),
    "fair_pay_fast_share_bps": (
        _("Implausibly fast work"),
        _(
            "In the fair-pay review, work done faster than this share of the good-faith median is left out of "
            "the measured median (see the formula on the rules page)."
        ),
    ),
    "former_name_days": (
        _("Former names shown"),
        _("A requester renamed within this many days shows its earlier name on every task card."),
    ),
    "former_staff_days": (
        _("Former staff"),
        _(
            "A person who left a requester's staff counts as its staff for this many days: they cannot accept "
            "its tasks, rate it, or sit on its cases, and their work is not measured for its fair-pay review."
        ),
    ),
    "juror_fee": (_("Juror fee"), _("Flat fee paid to each juror for each case completed, whatever the vote.")),
    "juror_min_tenure_days": (
        _("Juror tenure"),
        _("Days of membership before a member can be drawn as a juror."),
    ),
    "juror_vote_hours": (_("Juror voting deadline"), _("A juror who does not vote in time is replaced.")),
    "jury_size": (_("Jury size"), _("Jurors drawn for a first-round dispute panel.")),
    "late_submission_grace_minutes": (
        _("Late submission grace"),
        _("A submission arriving this long after its time allotted ended is accepted and paid like any other."),
    ),
    "mass_rejection_min_count": (
        _("Mass-rejection count"),
        _(
            "Number of distinct workers a requester rejected across its batches in the period that triggers "
            "the guard whatever the share."
        ),
    ),
    "mass_rejection_min_workers": (
        _("Mass-rejection workers"),
        _(
            "The guard triggers on a batch only when the requester rejected work of at least this many distinct "
            "workers in it within the period (and their share of the batch's workers reaches the mass-rejection "
            "share); rejecting the work of one or two workers never triggers it."
        ),
    ),
    "mass_rejection_period_hours": (
        _("Mass-rejection period"),
        _("The window over which rejections are counted by the guard."),
    ),
    "mass_rejection_share_bps": (
        _("Mass-rejection share"),
        _(
            "Share of a batch's distinct workers (decided in the period) whose work the requester rejected that, "
            "with the mass-rejection workers count, freezes those rejections and opens one case."
        ),
    ),
    "minimum_hourly_wage": (
        _("Minimum hourly wage"),
        _(
            "Reward per estimated hour below which a batch cannot be published, and the floor for the measured "
            "median pay that triggers a top-up."
        ),
    ),
    "payout_destination_hold_hours": (
        _("Hold on a new payout destination"),
        _(
            "A payout to a destination added or changed less than this long ago waits until the destination is "
            "this old; meanwhile the person, told by e-mail, can cancel it."
        ),
    ),
    "payout_fee_workers_bear": (
        _("Who bears payout fees"),
        _(
            "Either the co-op pays the payout services' fees (PayPal, Stripe, Wise), or they are taken from the "
            "payout and shown to the worker before confirming."
        ),
    ),
    "payout_minimum_floor": (_("Payout minimum floor"), _("The lowest payout minimum a worker may choose.")),
    "platform_fee_bps": (
        _("Platform fee"),
        _("Charged to the requester on top of each reward; never taken from the worker."),
    ),
    "qualification_test_free_minutes": (
        _("Unpaid qualification test length"),
        _(
            "A qualification test estimated longer than this is paid at the minimum hourly wage by the "
            "requester, escrowed when a worker starts it."
        ),
    ),
    "requester_response_hours": (
        _("Requester response deadline"),
        _("A requester who does not answer a dispute in time loses it."),
    ),
    "time_allotted_headroom_bps": (
        _("Time allotted headroom"),
        _(
            "When a live batch's measured median work time times this ratio passes its time allotted, the time "
            "allotted of its open and accepted slots grows to it."
        ),
    ),
    "voter_activity_days": (
        _("Voter activity"),
        _("A member must have worked or served within this many days to vote; 0 disables."),
    ),
    "voter_min_tenure_days": (
        _("Voter tenure"),
        _("Days of membership before a member is on a voter roll."),
    ),
    "data_report_days": (
        _("End-of-batch data report deadline"),
        _(
            "Days after a batch closes within which its requester reports to the workers what the data was used "
            "for; a report not filed in time is marked on the requester's public page."
        ),
    ),
    "dispatch_all_at_once_max_slots": (
        _("All at once, up to"),
        _(
            "A batch of at most this many slots may open all at once, first come, first served (the requester's "
            "choice, shown on the feed); larger batches open in waves."
        ),
    ),
    "dispatch_cap_bps": (
        _("Cap per worker"),
        _(
            "In a batch's first hours (the cap period) no worker holds more than this share of its slots (at "
            "least one slot)."
        ),
    ),
    "dispatch_cap_hours": (_("Cap period"), _("How long after publication the cap per worker applies.")),
    "dispatch_lookback_days": (
        _("Lottery earnings lookback"),
        _("The earnings that lower a worker's lottery weight are those approved in this many days before applying."),
    ),
    "dispatch_period_hours": (
        _("Dispatch period"),
        _(
            "A fresh batch's slots are given out in waves spread over this many hours, so every time zone gets a "
            "share; afterwards the rest is first come, first served."
        ),
    ),
    "dispatch_stratify_by_zone": (
        _("Draw by time zone"),
        _(
            "Each wave's slots are first shared among the time zones of its applicants in proportion to their "
            "lottery weights, then drawn by lot within each zone, so that luck does not favour one zone; each "
            "applicant's UTC offset hour is published with the draw so anyone can re-run it."
        ),
    ),
    "dispatch_wave_floor_bps": (
        _("Wave floor"),
        _(
            "Each wave's share of the slots follows how many workers who could take the batch were active in its "
            "hour over the last 7 days; a quiet hour's wave counts at least this share of the average wave, so no "
            "wave is empty. With no activity measured, the waves are equal."
        ),
    ),
    "dispatch_waves": (
        _("Dispatch waves"),
        _("How many waves the period is cut into; what a wave does not give rolls over to the next one."),
    ),
    "dispatch_weight_reference": (
        _("Lottery weight reference"),
        _(
            "A worker's lottery weight is reference / (reference + what they earned in the lookback): a worker "
            "who earned this much has half the chance of one who earned nothing."
        ),
    ),
    "dispatch_window_minutes": (
        _("Application window"),
        _(
            "At the start of each wave, workers ask for a slot during this many minutes; then slots are drawn by "
            "lot among them."
        ),
    ),
    "dividend_bonuses_count": (
        _("Bonuses count as patronage"),
        _(
            "1: a member's patronage is their work pay plus bonuses and fair-pay top-ups in the period; 0: their "
            "work pay only."
        ),
    ),
    "dividend_reserve_bps": (
        _("Reserve before a dividend"),
        _(
            "Share of a period's net (fees earned minus payout fees and juror pay) kept as the co-op's reserve; "
            "only the rest can be shared out as a patronage dividend."
        ),
    ),
    "qualification_retake_cooldown_hours": (
        _("Qualification test retake wait"),
        _(
            "After a failed qualification test, a worker may take it again once this many hours have passed, so "
            "an answer key cannot be found by guessing in a row."
        ),
    ),
    "qualification_test_max_attempts": (
        _("Qualification test attempts"),
        _("How many times a worker may take one qualification test in all (the first attempt included)."),
    ),
}


def rule_name(rule: Any) -> str:
    found = RULE_TEXTS.get(getattr(rule, "key", ""))
    return str(found[0]) if found else str(getattr(rule, "name", ""))


def rule_description(rule: Any) -> str:
    found = RULE_TEXTS.get(getattr(rule, "key", ""))
    return str(found[1]) if found else str(getattr(rule, "description", ""))
