"""Governance test helpers: proposals are made and moved through the services,
the way members and the jobs move them, with time passed in explicitly."""

import importlib
import pkgutil
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from governance import services
from governance.models import Proposal, Rule, RuleClass, RuleVersion
from tests.factories import MemberFactory


def members(count: int, **kwargs: Any) -> list[User]:
    return [MemberFactory(**kwargs) for _ in range(count)]


def rule_change(author: User, rule_key: str = "minimum_hourly_wage", value: int = 1500, **kwargs: Any) -> Proposal:
    return services.proposal_create(
        author=author,
        kind=Proposal.Kind.RULE_CHANGE,
        title=kwargs.pop("title", f"Set {rule_key} to {value}"),
        body=kwargs.pop("body", "Because the cost of living went up."),
        rule_key=rule_key,
        proposed_value=value,
        **kwargs,
    )


def policy(author: User, rule_class_key: str = "operational") -> Proposal:
    return services.proposal_create(
        author=author,
        kind=Proposal.Kind.POLICY,
        title="A code of conduct for discussions",
        body="Be kind; argue about ideas, not people.",
        rule_class_key=rule_class_key,
    )


def to_voting(proposal: Proposal, start: datetime | None = None) -> Proposal:
    """Opens discussion at ``start`` and voting when the discussion period ends."""
    start = start or timezone.now()
    services.proposal_open_discussion(proposal=proposal, actor=proposal.author, now=start)
    days = RuleClass.objects.get(pk=proposal.rule_class_id).discussion_days
    return services.proposal_open_voting(proposal_id=proposal.pk, now=start + timedelta(days=days))


def vote(proposal: Proposal, voters: list[User], choice: str) -> None:
    for voter in voters:
        services.ballot_cast(proposal_id=proposal.pk, voter=voter, choice=choice, now=proposal.voting_opened_at)


def after_close(proposal: Proposal) -> datetime:
    assert proposal.voting_closes_at is not None
    return proposal.voting_closes_at + timedelta(seconds=1)


def founding_rules_reload() -> None:
    """Writes the founding classes and rules again if they are missing.

    A transactional test (``transaction=True``, ``live_server``, browser tests)
    starts from a database flushed by the one before it, which has lost the
    rows migration 0002 loaded. This writes the same data in today's schema (the
    thresholds as 0003 converted them), instead of serialized rollback, which
    would serialise every app's tables. Idempotent.
    """
    if RuleClass.objects.exists():
        return
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
    appointments = importlib.import_module("governance.migrations.0006_appointment_proposals")
    classes["appointments"] = RuleClass.objects.create(**appointments.APPOINTMENTS_CLASS)
    # Rules added by later data migrations (``ADDED_RULES``, the 0002 layout), whatever their number.
    for module_info in pkgutil.iter_modules(importlib.import_module("governance.migrations").__path__):
        added = getattr(importlib.import_module(f"governance.migrations.{module_info.name}"), "ADDED_RULES", None)
        effective = getattr(importlib.import_module(f"governance.migrations.{module_info.name}"), "EFFECTIVE", None)
        for spec in getattr(importlib.import_module(f"governance.migrations.{module_info.name}"), "ADDED_CLASSES", []):
            classes[spec["key"]] = RuleClass.objects.get_or_create(key=spec["key"], defaults=spec)[0]
        for key, class_key, value_type, unit, low, high, value, name, description in added or []:
            rule, created = Rule.objects.get_or_create(
                key=key,
                defaults={
                    "name": name,
                    "description": description,
                    "value_type": value_type,
                    "unit": unit,
                    "min_value": low,
                    "max_value": high,
                    "rule_class": classes[class_key],
                },
            )
            if created:
                RuleVersion.objects.create(rule=rule, value=value, effective_at=effective or founding.FOUNDED)
