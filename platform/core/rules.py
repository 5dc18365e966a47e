"""The one way the platform reads a governed rule: the value in force at time T.

The reader lives in the platform core so that every layer may read a rule without
importing ``governance`` (which sits above the core). The rows themselves stay in
governance's tables, written only by ``governance.services.proposal_schedule``;
governance hands the reader its storage at start-up (``GovernanceConfig.ready``
calls ``rule_source_register``). See docs/contracts.md, "Rules in force".

Versions of a rule are cached per rule (they are append-only and few) and the
cache entry is dropped whenever a version is appended (``rule_cache_invalidate``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import AppError

_CACHE_PREFIX = "rule-versions:v1:"


@dataclass(frozen=True, slots=True)
class RuleValue:
    key: str
    value: int
    version_id: int
    effective_at: datetime


class RuleSource(Protocol):
    """Where the rows come from (registered by the app that writes them)."""

    def versions(self, key: str) -> list[tuple[datetime, int, int]] | None:
        """(effective_at, value, version id) of rule ``key``, oldest first; None if no such rule."""
        ...

    def versions_until(self, moment: datetime) -> Iterable[tuple[str, int, int, datetime]]:
        """(key, value, version id, effective_at) of every version effective at or before
        ``moment``, ordered by rule, effective_at, id."""
        ...


_source: RuleSource | None = None


def rule_source_register(source: RuleSource) -> None:
    """Called once at start-up by the app that owns the rule tables (governance)."""
    global _source  # one process-wide registration, made in AppConfig.ready
    _source = source


def _registered_source() -> RuleSource:
    if _source is None:
        raise AppError("rules_unavailable", _("No store of governed rules is registered."), status=500)
    return _source


def _versions(key: str) -> list[tuple[datetime, int, int]]:
    cached = cache.get(_CACHE_PREFIX + key)
    if cached is not None:
        return list(cached)
    rows = _registered_source().versions(key)
    if rows is None:
        raise AppError("unknown_rule", _("There is no governed rule named '%(key)s'.") % {"key": key}, status=500)
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
        raise AppError(
            "rule_not_in_force",
            _("The rule '%(key)s' has no value in force at %(isoformat)s.")
            % {"key": key, "isoformat": moment.isoformat()},
        )
    return RuleValue(key=key, value=current[1], effective_at=current[0], version_id=current[2])


def rule_value(key: str, *, at: datetime | None = None) -> int:
    """The value of rule ``key`` in force at ``at`` (default: now). Record
    ``rule_in_force(...).version_id`` where the decision must be traceable."""
    return rule_in_force(key, at=at).value


def rule_cache_invalidate(key: str) -> None:
    cache.delete(_CACHE_PREFIX + key)


def rules_in_force(*, at: datetime | None = None) -> dict[str, RuleValue]:
    """Every rule's version in force at ``at`` in one query, for listings and for
    recording the versions a batch, case or payout was made under."""
    moment = at or timezone.now()
    current: dict[str, RuleValue] = {}
    for key, value, version_id, effective_at in _registered_source().versions_until(moment):
        current[key] = RuleValue(key=key, value=value, version_id=version_id, effective_at=effective_at)
    return current
