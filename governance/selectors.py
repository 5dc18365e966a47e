"""The one way the platform reads a governed rule: the value in force at time T.

Versions of a rule are cached per rule (they are append-only and few) and the
cache entry is dropped whenever a version is appended (``governance.services``).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from core.errors import AppError
from governance.models import Rule, RuleVersion

_CACHE_PREFIX = "rule-versions:v1:"


@dataclass(frozen=True, slots=True)
class RuleValue:
    key: str
    value: int
    version_id: int
    effective_at: datetime


def _versions(key: str) -> list[tuple[datetime, int, int]]:
    cached = cache.get(_CACHE_PREFIX + key)
    if cached is not None:
        return list(cached)
    rows = list(
        RuleVersion.objects.filter(rule__key=key)
        .order_by("effective_at", "id")
        .values_list("effective_at", "value", "id")
    )
    if not rows and not Rule.objects.filter(key=key).exists():
        raise AppError("unknown_rule", f"There is no governed rule named '{key}'.", status=500)
    cache.set(_CACHE_PREFIX + key, rows, timeout=3600)
    return rows


def rule_in_force(key: str, *, at: datetime | None = None) -> RuleValue:
    """The version of rule ``key`` in force at ``at`` (default: now)."""
    moment = at or timezone.now()
    current: tuple[datetime, int, int] | None = None
    for row in _versions(key):
        if row[0] <= moment:
            current = row
        else:
            break
    if current is None:
        raise AppError("rule_not_in_force", f"The rule '{key}' has no value in force at {moment.isoformat()}.")
    return RuleValue(key=key, value=current[1], effective_at=current[0], version_id=current[2])


def rule_value(key: str, *, at: datetime | None = None) -> int:
    return rule_in_force(key, at=at).value


def rule_cache_invalidate(key: str) -> None:
    cache.delete(_CACHE_PREFIX + key)
