"""Read-only admin: rules, classes and proposals change only through governance.

There is deliberately no admin for ballots or voter rolls: nobody, staff
included, browses how members voted.
"""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from governance.models import Proposal, Rule, RuleClass, RuleVersion


@admin.register(RuleClass)
class RuleClassAdmin(ReadOnlyAdmin):
    list_display = ["key", "name", "quorum_bps", "threshold_numerator", "threshold_denominator", "notice_days"]


@admin.register(Rule)
class RuleAdmin(ReadOnlyAdmin):
    list_display = ["key", "name", "rule_class", "min_value", "max_value", "unit"]


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdmin):
    list_display = ["rule", "value", "effective_at", "adopted_by_proposal"]
    list_filter = ["rule"]


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "kind", "state", "rule_class", "voting_closes_at", "effective_at"]
    list_filter = ["state", "kind"]
