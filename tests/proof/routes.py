"""Every route the platform serves, read from Django's URL resolver, and the values that
fill its path parameters from a ``World``."""

from dataclasses import dataclass
from datetime import date

from django.urls import URLPattern, URLResolver, get_resolver

from tests.proof.world import World

# Routes outside the authorization matrix: Django's admin (its own staff checks), the
# MTurk endpoint (SigV4, tested apart) and the Stripe webhook (signature, tested apart).
OUTSIDE_PREFIXES = ("admin/", "mturk/", "webhooks/")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # Django's pattern text, e.g. "api/batches/<int:batch_id>/"
    parameters: tuple[str, ...]


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[Route]:
    routes: list[Route] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            routes += _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            text = prefix + str(entry.pattern)
            names = tuple(entry.pattern.converters) if hasattr(entry.pattern, "converters") else ()
            routes.append(Route(name=entry.name or text, pattern=text, parameters=names))
    return routes


def every_route() -> list[Route]:
    """Every route of the URL conf, those under ``OUTSIDE_PREFIXES`` included."""
    return _walk(get_resolver().url_patterns)


def route_list() -> list[Route]:
    """Every named route of the platform except the ones in ``OUTSIDE_PREFIXES``."""
    return [r for r in every_route() if not r.pattern.startswith(OUTSIDE_PREFIXES)]


# Routes about a slot still being worked on (the rest take the submitted one).
WORKING = {
    "worker_assignment_frame",
    "worker_assignment_submit",
    "worker_assignment_return",
    "api-submit",
    "api-return",
}

# Path parameters that name an action: the value used for each route.
ACTIONS = {
    "org_review_decide": {"decision": "approve"},
    "org_export": {"file_format": "csv"},
    "org_batch_action": {"action": "pause"},
    "proposal_action": {"action": "withdraw"},
    "treasury_sepa_payment": {"action": "paid"},
    "treasury_sepa_action": {"action": "sent"},
    "case_action": {"action": "evidence"},
    "staff_verification_decide": {"action": "approve"},
    "staff_person_action": {"action": "suspend"},
    "org_team_member": {"action": "role"},
    "org_statement": {"month": 1, "file_format": "csv"},
    "api-statement": {"month": 1},
    "org_receipt": {"file_format": "csv"},
}


def parameters(route: Route, world: World) -> dict[str, object]:
    sepa = route.name.startswith(("api-payout-batch", "treasury_sepa"))
    values: dict[str, object] = {
        "slug": world.organisation.slug,
        "key_id": world.api_key.pk,
        "deposit_id": world.deposit.pk,
        "withdrawal_id": world.withdrawal.pk,
        "difference_id": world.difference_id,
        "key": "minimum_hourly_wage",
        "proposal_id": world.proposal.pk,
        "qualification_id": world.qualification.pk,
        "pseudonym": world.people["other_worker"].pseudonym,  # type: ignore[union-attr]
        "batch_id": world.sepa_batch.pk if sepa else world.batch.pk,
        "assignment_id": world.accepted.pk if route.name in WORKING else world.submitted.pk,
        "case_id": world.case.pk,
        "payout_id": world.payout.pk,
        "year": date.today().year,
        "uidb64": "MQ",
        "token": "set-password",
        "operation_id": world.operation_id,
        "endpoint_id": world.webhook_id,
        "failure_id": world.job_failure_id,
        "notification_id": world.notification_id,
        "search_id": world.saved_search_id,
        "thread_id": world.thread_id,
        "verification_id": world.verification.pk,
        "document_id": world.document.pk,
        # Suspend and lift act on the worker; a team member route on the requester (the owner).
        "person_id": world.people["worker"].pk,  # type: ignore[union-attr]
        "user_id": world.owner().pk,
        "country": "KE",
        "dividend_id": world.dividend_id,
        "template_id": world.template_id,
        "passkey_id": world.passkey_id,
    }
    if route.name in ("org_receipt", "api-deposit-receipt"):  # a receipt exists for credited deposits only
        values["deposit_id"] = world.credited_deposit.pk  # type: ignore[union-attr]
    values.update(ACTIONS.get(route.name, {}))
    if route.name == "invitation":
        values["token"] = world.invitation_token
    return {name: values[name] for name in route.parameters}


def fill(route: Route, world: World) -> str:
    """The route's path with its parameters filled from ``world``."""
    import re

    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(parameters(route, world)[m.group(1)]), route.pattern)
    return "/" + path
