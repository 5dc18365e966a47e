"""Governance fixtures."""

import importlib

import pytest

from governance.models import Rule, RuleClass, RuleVersion


@pytest.fixture
def founding_rules(transactional_db: None) -> None:
    """Reloads the founding classes and rules for a transactional test.

    Transactional tests start from a flushed database, which has lost the rows
    migration 0002 loaded; this writes the same data in today's schema (the
    thresholds as 0003 converted them) instead of relying on serialized
    rollback, which would serialise every app's tables.
    """
    if RuleClass.objects.exists():
        return
    founding = importlib.import_module("governance.migrations.0002_founding_rules")
    classes = {}
    for key, name, quorum, threshold, inclusive, notice, discussion, voting, secret in founding.CLASSES:
        numerator, denominator = (2, 3) if key == "bylaws" else (threshold, 10_000)
        classes[key] = RuleClass.objects.create(
            key=key,
            name=name,
            quorum_bps=quorum,
            threshold_numerator=numerator,
            threshold_denominator=denominator,
            threshold_inclusive=inclusive,
            notice_days=notice,
            discussion_days=discussion,
            voting_days=voting,
            secret_ballot=secret,
        )
    for key, class_key, value_type, unit, low, high, value, name, description in founding.RULES:
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
        RuleVersion.objects.create(rule=rule, value=value, effective_at=founding.FOUNDED)
