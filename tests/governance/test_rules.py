"""The rule registry: append-only versions, the one selector, the read-only admin and the rules API."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import AppError
from governance.models import Rule, RuleVersion
from governance.selectors import rule_in_force, rule_value, rules_in_force
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_founding_values_are_in_force_and_have_no_proposal() -> None:
    founding = RuleVersion.objects.get(rule__key="minimum_hourly_wage")
    assert founding.adopted_by_proposal is None
    assert rule_value("minimum_hourly_wage") == 1200
    assert rule_in_force("minimum_hourly_wage").version_id == founding.pk


def test_nothing_is_in_force_before_the_founding() -> None:
    founding = RuleVersion.objects.get(rule__key="jury_size")
    with pytest.raises(AppError) as error:
        rule_value("jury_size", at=founding.effective_at - timedelta(seconds=1))
    assert error.value.code == "rule_not_in_force"


def test_a_version_cannot_be_changed_or_deleted_through_the_orm() -> None:
    version = RuleVersion.objects.get(rule__key="minimum_hourly_wage")
    version.value = 1
    for attempt in (
        version.save,
        version.delete,
        lambda: RuleVersion.objects.filter(pk=version.pk).update(value=1),
        lambda: RuleVersion.objects.filter(pk=version.pk).delete(),
    ):
        with pytest.raises(AppError) as error:
            attempt()
        assert error.value.code == "rule_version_immutable"
    assert RuleVersion.objects.get(pk=version.pk).value == 1200
    assert rule_value("minimum_hourly_wage") == 1200


def test_the_admin_offers_no_way_to_add_change_or_delete_rules() -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = staff
    version = RuleVersion.objects.first()
    for model in ("RuleVersion", "Rule", "RuleClass", "Proposal"):
        model_admin = next(a for m, a in admin.site._registry.items() if m.__name__ == model)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, version)
        assert not model_admin.has_delete_permission(request, version)
    assert not any(m.__name__ in {"Ballot", "VoterRollEntry"} for m in admin.site._registry)


def test_rules_in_force_matches_the_selector_for_every_rule() -> None:
    current = rules_in_force()
    assert set(current) == set(Rule.objects.values_list("key", flat=True))
    for key, value in current.items():
        assert value == rule_in_force(key)


def test_unknown_rule_is_an_error() -> None:
    with pytest.raises(AppError) as error:
        rule_value("free_lunch")
    assert error.value.code == "unknown_rule"


def test_rules_api_lists_every_rule_with_its_value_in_a_fixed_number_of_queries(api) -> None:  # type: ignore[no-untyped-def]
    api.force_authenticate(UserFactory())
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/governance/rules/")
    assert response.status_code == 200
    assert len(queries) <= 3
    by_key = {row["key"]: row for row in response.json()}
    assert len(by_key) == Rule.objects.count()
    wage = by_key["minimum_hourly_wage"]
    assert (wage["value"], wage["min_value"], wage["max_value"], wage["rule_class"]) == (1200, 0, 100_000, "economic")


def test_rule_detail_shows_the_history(api) -> None:  # type: ignore[no-untyped-def]
    api.force_authenticate(UserFactory())
    response = api.get("/api/governance/rules/platform_fee_bps/")
    assert response.status_code == 200
    body = response.json()
    assert body["value"] == 1000
    assert [(v["value"], v["adopted_by_proposal"], v["status"]) for v in body["versions"]] == [(1000, None, "in_force")]
    assert api.get("/api/governance/rules/nope/").json()["error"]["code"] == "not_found"


def test_classes_api_states_thresholds_as_fractions(api) -> None:  # type: ignore[no-untyped-def]
    api.force_authenticate(UserFactory())
    classes = {c["key"]: c for c in api.get("/api/governance/classes/").json()}
    assert (classes["bylaws"]["threshold_numerator"], classes["bylaws"]["threshold_denominator"]) == (2, 3)
    assert classes["bylaws"]["threshold_inclusive"] is True
    assert (classes["economic"]["threshold_numerator"], classes["economic"]["threshold_denominator"]) == (5000, 10_000)
    assert classes["economic"]["secret_ballot"] is True
    assert classes["operational"]["secret_ballot"] is False


def test_the_selector_cache_is_dropped_when_a_version_is_appended() -> None:
    # Exercised end to end in test_lifecycle; here: a cached read stays cached.
    assert rule_value("jury_size") == 3
    with CaptureQueriesContext(connection) as queries:
        assert rule_value("jury_size", at=timezone.now()) == 3
    assert len(queries) == 0
