"""The co-op's founding rule classes and rule values.

This is the only way rules come into being outside governance: every later value
is a RuleVersion appended by an adopted proposal. The data is written out here
(not imported) so that this migration means the same thing forever.
"""

from datetime import UTC, datetime

from django.db import migrations

FOUNDED = datetime(2026, 8, 1, tzinfo=UTC)

# key, name, quorum_bps, threshold_bps, inclusive, notice_days, discussion_days, voting_days, secret
CLASSES = [
    ("operational", "Operational", 1000, 5000, False, 3, 3, 7, False),
    ("economic", "Economic", 2000, 5000, False, 14, 7, 7, True),
    ("dispute_procedure", "Dispute procedure", 1500, 5000, False, 7, 7, 7, False),
    ("bylaws", "Bylaws", 3000, 6667, True, 30, 14, 14, True),
]

# key, class, type, unit, min, max, founding value, name, description
RULES = [
    (
        "minimum_hourly_wage",
        "economic",
        "money",
        "minor units per hour",
        0,
        100_000,
        1200,
        "Minimum hourly wage",
        "Reward per estimated hour below which a batch cannot be published, and the floor "
        "for the measured median pay that triggers a top-up.",
    ),
    (
        "platform_fee_bps",
        "economic",
        "basis_points",
        "basis points of the reward",
        0,
        5000,
        1000,
        "Platform fee",
        "Charged to the requester on top of each reward; never taken from the worker.",
    ),
    (
        "auto_approval_hours",
        "operational",
        "hours",
        "hours",
        1,
        720,
        72,
        "Auto-approval window",
        "A submission not reviewed within this time is approved and paid.",
    ),
    (
        "contest_window_days",
        "dispute_procedure",
        "days",
        "days",
        1,
        60,
        7,
        "Contest window",
        "How long a worker has to dispute a rejection before it becomes final.",
    ),
    (
        "requester_response_hours",
        "dispute_procedure",
        "hours",
        "hours",
        24,
        336,
        72,
        "Requester response deadline",
        "A requester who does not answer a dispute in time loses it.",
    ),
    (
        "evidence_hours",
        "dispute_procedure",
        "hours",
        "hours",
        12,
        336,
        48,
        "Evidence period",
        "Time for both parties to add evidence once a panel is drawn.",
    ),
    (
        "juror_vote_hours",
        "dispute_procedure",
        "hours",
        "hours",
        12,
        336,
        72,
        "Juror voting deadline",
        "A juror who does not vote in time is replaced.",
    ),
    (
        "appeal_window_hours",
        "dispute_procedure",
        "hours",
        "hours",
        12,
        336,
        72,
        "Appeal window",
        "Time after a decision during which either party may appeal once.",
    ),
    (
        "jury_size",
        "dispute_procedure",
        "integer",
        "jurors",
        1,
        15,
        3,
        "Jury size",
        "Jurors drawn for a first-round dispute panel.",
    ),
    (
        "appeal_jury_size",
        "dispute_procedure",
        "integer",
        "jurors",
        3,
        21,
        5,
        "Appeal jury size",
        "Jurors drawn for an appeal panel (larger and fresh).",
    ),
    (
        "juror_fee",
        "economic",
        "money",
        "minor units per case",
        0,
        10_000,
        300,
        "Juror fee",
        "Flat fee paid to each juror for each case completed, whatever the vote.",
    ),
    (
        "juror_min_tenure_days",
        "dispute_procedure",
        "days",
        "days",
        0,
        3650,
        30,
        "Juror tenure",
        "Days of membership before a member can be drawn as a juror.",
    ),
    (
        "conflict_lookback_days",
        "dispute_procedure",
        "days",
        "days",
        0,
        3650,
        90,
        "Conflict look-back",
        "Members who worked for a requester in this period are not drawn for its cases.",
    ),
    (
        "mass_rejection_share_bps",
        "dispute_procedure",
        "basis_points",
        "basis points",
        100,
        10_000,
        3000,
        "Mass-rejection share",
        "Share of a batch's or a worker's work rejected in the period that freezes the rejections and opens one case.",
    ),
    (
        "mass_rejection_min_count",
        "dispute_procedure",
        "integer",
        "rejections",
        2,
        10_000,
        10,
        "Mass-rejection count",
        "Number of rejections in the period that triggers the guard whatever the share.",
    ),
    (
        "mass_rejection_period_hours",
        "dispute_procedure",
        "hours",
        "hours",
        1,
        720,
        24,
        "Mass-rejection period",
        "The window over which rejections are counted by the guard.",
    ),
    (
        "approval_rate_window_days",
        "operational",
        "days",
        "days",
        7,
        3650,
        90,
        "Approval-rate window",
        "Only final decisions within this recent window count in a worker's approval rate.",
    ),
    (
        "payout_minimum_floor",
        "economic",
        "money",
        "minor units",
        0,
        100_000,
        500,
        "Payout minimum floor",
        "The lowest payout minimum a worker may choose.",
    ),
    (
        "display_name_changes_per_year",
        "operational",
        "integer",
        "changes per year",
        0,
        12,
        2,
        "Requester name changes",
        "How often a requester may change its public display name in a year.",
    ),
    (
        "voter_min_tenure_days",
        "bylaws",
        "days",
        "days",
        0,
        365,
        0,
        "Voter tenure",
        "Days of membership before a member is on a voter roll.",
    ),
    (
        "voter_activity_days",
        "bylaws",
        "days",
        "days (0 = no activity required)",
        0,
        3650,
        0,
        "Voter activity",
        "A member must have worked or served within this many days to vote; 0 disables.",
    ),
]


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    RuleClass = apps.get_model("governance", "RuleClass")
    Rule = apps.get_model("governance", "Rule")
    RuleVersion = apps.get_model("governance", "RuleVersion")
    classes = {}
    for key, name, quorum, threshold, inclusive, notice, discussion, voting, secret in CLASSES:
        classes[key] = RuleClass.objects.create(
            key=key,
            name=name,
            quorum_bps=quorum,
            threshold_bps=threshold,
            threshold_inclusive=inclusive,
            notice_days=notice,
            discussion_days=discussion,
            voting_days=voting,
            secret_ballot=secret,
        )
    for key, class_key, value_type, unit, low, high, value, name, description in RULES:
        rule = Rule.objects.create(
            key=key,
            name=name,
            description=description,
            value_type=value_type,
            unit=unit,
            min_value=low,
            max_value=high,
            rule_class=classes[class_key],
        )
        RuleVersion.objects.create(rule=rule, value=value, effective_at=FOUNDED)


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("governance", "RuleVersion").objects.all().delete()
    apps.get_model("governance", "Rule").objects.all().delete()
    apps.get_model("governance", "RuleClass").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
