"""The authorization matrix: every API route and page, as every role, against one declared
table. A route missing from the table fails the suite, so a new route must say who may use it.

Each request runs in a savepoint that is rolled back afterwards, so the world is the same
for every route; a refused request is checked to have changed nothing (a digest of every
row the platform owns, taken before the rollback)."""

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.db import transaction
from django.http import HttpResponse
from django.test import Client

from tests.proof.routes import Route, fill, route_list
from tests.proof.world import ROLES, World

pytestmark = pytest.mark.django_db

ANYONE = frozenset(ROLES)
SIGNED_IN = ANYONE - {"anonymous"}
NOBODY: frozenset[str] = frozenset()  # co-op staff only (is_staff), a role outside the matrix
WORKER = frozenset({"worker"})  # the worker whose assignment, payout or case it is
REQUESTER = frozenset({"requester"})  # staff of the organisation that owns the object
TREASURER = frozenset({"treasurer"})
MEMBERS = frozenset({"juror", "member"})
AUTHOR = frozenset({"member"})  # the proposal's author
JUROR = frozenset({"juror"})  # drawn on the case's panel
VERIFIER = frozenset({"verifier"})
MODERATOR = frozenset({"moderator"})
STAFF = TREASURER | VERIFIER | MODERATOR  # any co-op staff role: the console's door
INVITED = frozenset({"other_worker"})  # the person the world's team invitation was sent to
PARTIES = WORKER | REQUESTER
CASE_READERS = PARTIES | JUROR

# route name -> {method: roles allowed}. Everyone else is refused.
MATRIX: dict[str, dict[str, frozenset[str]]] = {
    "ping": {"GET": ANYONE},
    "glossary": {"GET": ANYONE},
    "set_language": {"POST": ANYONE},
    "api-schema": {"GET": ANYONE},
    "api-docs": {"GET": ANYONE},
    # accounts
    "api-register": {"POST": ANYONE},
    "api-token": {"POST": ANYONE},
    "api-me": {"GET": SIGNED_IN},
    "api-profile": {"GET": SIGNED_IN, "PATCH": SIGNED_IN},
    "api-profile-history": {"GET": SIGNED_IN},
    "api-membership": {"POST": SIGNED_IN},
    "api-organisations": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api-organisation": {"GET": REQUESTER, "PATCH": REQUESTER},
    "api-keys": {"GET": REQUESTER, "POST": REQUESTER},
    "api-key-revoke": {"POST": REQUESTER},
    "api-webhooks": {"GET": REQUESTER, "POST": REQUESTER},
    "api-webhook": {"DELETE": REQUESTER},
    "api-webhook-deliveries": {"GET": REQUESTER},
    "api-requester": {"GET": SIGNED_IN},
    "api-two-factor": {"GET": SIGNED_IN},
    # passkeys (issue 19): the sign-in's second step answers anyone (no pending sign-in: 400);
    # adding one: anyone signed in without a second factor yet; the world's worker already has
    # a passkey, so adding another needs a session confirmed with it (403 here; the passkey
    # journey in tests/frontend covers that path); removing one, its owner's
    "passkey_options": {"POST": ANYONE},
    "passkey_verify": {"POST": ANYONE},
    "passkey_add_options": {"POST": SIGNED_IN - WORKER},
    "passkey_add": {"POST": NOBODY},
    "passkey_remove": {"POST": WORKER},
    "api-two-factor-enrol": {"POST": SIGNED_IN},
    "api-two-factor-confirm": {"POST": SIGNED_IN},
    "api-two-factor-backup-codes": {"POST": SIGNED_IN},
    "api-two-factor-disable": {"POST": SIGNED_IN},
    "api-personal-data": {"GET": SIGNED_IN},
    "api-erasure": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api-org-verification": {"GET": REQUESTER, "POST": REQUESTER},
    "api-org-members": {"GET": REQUESTER, "POST": REQUESTER},
    "api-org-member": {"PATCH": REQUESTER, "DELETE": REQUESTER},
    "api-invitation-accept": {"POST": SIGNED_IN},
    # staff console (API)
    "api-staff-me": {"GET": STAFF},
    "api-staff-verifications": {"GET": VERIFIER},
    "api-staff-verification": {"GET": VERIFIER},
    "api-staff-verification-approve": {"POST": VERIFIER},
    "api-staff-verification-refuse": {"POST": VERIFIER},
    "api-staff-verification-ask": {"POST": VERIFIER},
    "api-staff-verification-document": {"GET": VERIFIER},
    "api-staff-organisations": {"GET": STAFF},
    "api-staff-people": {"GET": STAFF},
    "api-staff-suspend": {"POST": MODERATOR},
    "api-staff-lift": {"POST": MODERATOR},
    "api-staff-audit": {"GET": STAFF},
    "api-staff-reasons": {"GET": ANYONE},
    "api-staff-roles": {"GET": ANYONE},
    # payments
    "api-deposits": {"GET": REQUESTER, "POST": REQUESTER},
    "api-deposit": {"GET": REQUESTER},
    "api-deposit-payment-intent": {"POST": REQUESTER},
    "api-withdrawals": {"GET": REQUESTER, "POST": REQUESTER},
    "api-balance": {"GET": REQUESTER},
    "api-treasury-deposits": {"GET": TREASURER},
    "api-treasury-deposit-confirm": {"POST": TREASURER},
    "api-treasury-withdrawals": {"GET": TREASURER},
    "api-treasury-withdrawal-confirm": {"POST": TREASURER},
    "api-treasury-differences": {"GET": TREASURER},
    "api-treasury-difference-resolve": {"POST": TREASURER},
    # governance
    "api-governance-rules": {"GET": SIGNED_IN},
    "api-governance-rule": {"GET": SIGNED_IN},
    "api-governance-classes": {"GET": SIGNED_IN},
    "api-governance-proposals": {"GET": SIGNED_IN, "POST": MEMBERS},
    # The API shows proposals past their draft to everyone signed in (the pages only to members).
    "api-governance-proposal": {"GET": SIGNED_IN, "PATCH": AUTHOR},
    "api-governance-proposal-discussion": {"POST": AUTHOR},
    "api-governance-proposal-withdraw": {"POST": AUTHOR},
    "api-governance-comments": {"GET": SIGNED_IN, "POST": MEMBERS},
    "api-governance-ballot": {"GET": SIGNED_IN, "POST": MEMBERS, "PUT": MEMBERS},
    "api-governance-results": {"GET": SIGNED_IN},
    "api-governance-receipts": {"GET": SIGNED_IN},
    "api-governance-surplus": {"GET": MEMBERS | TREASURER},
    "api-governance-dividends": {"GET": MEMBERS | TREASURER},
    "api-governance-dividend-allocations": {"GET": TREASURER},
    # marketplace, requester side
    "api-org-notices": {"GET": REQUESTER},
    "api-qual-revoke": {"DELETE": REQUESTER},
    "api-batches": {"GET": REQUESTER, "POST": REQUESTER},
    "api-sandbox": {"GET": REQUESTER},
    "api-sandbox-top-up": {"POST": REQUESTER},
    "api-templates": {"GET": REQUESTER, "POST": REQUESTER},
    "api-template": {"GET": REQUESTER, "PATCH": REQUESTER, "DELETE": REQUESTER},
    "api-template-starters": {"GET": SIGNED_IN},
    "api-quals": {"GET": REQUESTER, "POST": REQUESTER},
    "api-qual-grant": {"POST": REQUESTER},
    "api-blocks": {"GET": REQUESTER, "POST": REQUESTER},
    "api-block": {"DELETE": REQUESTER},
    "api-batch": {"GET": REQUESTER, "PATCH": REQUESTER, "DELETE": REQUESTER},
    "api-batch-clone": {"POST": REQUESTER},
    "api-completion-code": {"POST": WORKER},
    "api-batch-input": {"PUT": REQUESTER},
    "api-batch-publish": {"POST": REQUESTER},
    "api-batch-pause": {"POST": REQUESTER},
    "api-batch-resume": {"POST": REQUESTER},
    "api-batch-cancel": {"POST": REQUESTER},
    "api-batch-add": {"POST": REQUESTER},
    "api-batch-extend": {"POST": REQUESTER},
    "api-submissions": {"GET": REQUESTER},
    "api-bulk-approve": {"POST": REQUESTER},
    "api-export-csv": {"GET": REQUESTER},
    "api-review-file": {"GET": REQUESTER, "POST": REQUESTER},
    "api-bonus-file": {"POST": REQUESTER},
    "api-deposit-receipt": {"GET": REQUESTER},
    "api-statement": {"GET": REQUESTER},
    "api-export-json": {"GET": REQUESTER},
    "api-submission": {"GET": REQUESTER},
    "api-approve": {"POST": REQUESTER},
    "api-reject": {"POST": REQUESTER},
    "api-bonus": {"POST": REQUESTER},
    "api-withdraw-rejection": {"POST": REQUESTER},
    "api-batch-data-report": {"GET": REQUESTER, "POST": REQUESTER},
    # marketplace, worker side
    "api-feed": {"GET": SIGNED_IN},
    "api-preview": {"GET": SIGNED_IN},
    # Anyone signed in but the batch's own organisation's staff (no self-dealing, issue 19.2).
    "api-accept": {"POST": SIGNED_IN - REQUESTER},
    "api-accept-next": {"POST": SIGNED_IN - REQUESTER},
    "api-apply": {"POST": SIGNED_IN - REQUESTER},
    "api-dispatch": {"GET": SIGNED_IN},
    "api-draws": {"GET": SIGNED_IN},
    "api-approval-rate": {"GET": SIGNED_IN},
    "api-task-notices": {"GET": SIGNED_IN},
    "api-assignments": {"GET": SIGNED_IN},
    "api-assignment": {"GET": WORKER},
    "api-submit": {"POST": WORKER},
    "api-return": {"POST": WORKER},
    "api-reuse-opt-out": {"POST": WORKER},  # the worker's own slot (the world's batch allows no reuse: 409)
    "api-qualification": {"GET": SIGNED_IN},
    "api-qual-test": {"POST": SIGNED_IN},
    # quality control (issue 27)
    "api-batch-quality": {"GET": REQUESTER},
    "api-control-rejections": {"POST": REQUESTER},
    "api-my-scores": {"GET": SIGNED_IN},
    "api-reputation": {"GET": SIGNED_IN},
    "api-ratings": {"POST": SIGNED_IN},
    # disputes
    "api-dispute-cases": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api-dispute-case": {"GET": CASE_READERS},
    "api-dispute-respond": {"POST": REQUESTER},
    "api-dispute-offer": {"POST": WORKER},
    "api-dispute-evidence": {"POST": PARTIES},
    "api-dispute-vote": {"POST": JUROR},
    "api-dispute-appeal": {"POST": PARTIES},
    "api-dispute-split": {"POST": WORKER},
    "api-dispute-draws": {"GET": NOBODY},
    "api-dispute-suspension-appeal": {"POST": SIGNED_IN},
    "api-dispute-juror-queue": {"GET": SIGNED_IN},
    "api-dispute-precedents": {"GET": SIGNED_IN},
    "api-dispute-record": {"GET": SIGNED_IN},
    # payouts
    "api-payouts-balance": {"GET": SIGNED_IN},
    "api-payouts-methods": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api-payouts-stripe-onboarding": {"POST": SIGNED_IN},
    "api-payouts-global-onboarding": {"POST": SIGNED_IN},
    "api-payouts-quotes": {"POST": SIGNED_IN},
    "api-payouts-coverage": {"GET": ANYONE},  # public: read before registering
    "api-payouts-coverage-country": {"GET": ANYONE},
    "api-payouts-schedule": {"GET": SIGNED_IN, "PUT": SIGNED_IN},
    "api-payouts": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api-payout": {"GET": WORKER},
    "api-payout-cancel": {"POST": WORKER},
    "api-payouts-statement": {"GET": SIGNED_IN},
    "api-payouts-statement-csv": {"GET": SIGNED_IN},
    "api-payouts-yearly-statement": {"GET": SIGNED_IN},
    "api-payout-batches": {"GET": TREASURER, "POST": TREASURER},
    "api-payout-batch": {"GET": TREASURER},
    "api-payout-batch-file": {"GET": TREASURER},
    "api-payout-batch-sent": {"POST": TREASURER},
    "api-payout-batch-payment-paid": {"POST": TREASURER},
    "api-payout-batch-payment-failed": {"POST": TREASURER},
    # pages: public and sign-in
    "home": {"GET": ANYONE},
    "health": {"GET": ANYONE},
    "staff_jobs": {"GET": NOBODY},
    "staff_job_item_release": {"POST": NOBODY},
    "operation": {"GET": REQUESTER},  # the person who started it
    "operation_download": {"GET": REQUESTER},
    "register": {"GET": ANYONE, "POST": ANYONE},
    "login": {"GET": ANYONE, "POST": ANYONE},
    # Only between a right password and the code: nobody in the matrix has a sign-in pending.
    "login_verify": {"GET": NOBODY, "POST": NOBODY},
    "account_security": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "account_reauthenticate": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    # Passkeys: adding and removing one's own; the sign-in step (or confirming a session) is
    # open like the sign-in form and answers "sign in again" to a caller with nothing pending.
    "account_data": {"GET": SIGNED_IN},
    "account_data_download": {"GET": SIGNED_IN},
    "account_data_erase": {"POST": SIGNED_IN},
    "logout": {"POST": ANYONE},
    "password_reset": {"GET": ANYONE, "POST": ANYONE},
    "password_reset_done": {"GET": ANYONE},
    "password_reset_confirm": {"GET": ANYONE},
    "password_reset_complete": {"GET": ANYONE},
    # pages: worker
    "worker_feed": {"GET": SIGNED_IN},
    "worker_introduction": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "worker_batch": {"GET": SIGNED_IN},
    "worker_accept": {"POST": SIGNED_IN - REQUESTER},
    "worker_apply": {"POST": SIGNED_IN - REQUESTER},
    "worker_draws": {"GET": SIGNED_IN},
    "worker_assignments": {"GET": SIGNED_IN},
    "worker_assignment": {"GET": WORKER},
    "worker_assignment_frame": {"GET": WORKER},
    "worker_assignment_submit": {"POST": WORKER},
    "worker_assignment_completion_code": {"POST": WORKER},
    "worker_batch_preview_frame": {"GET": SIGNED_IN},
    "worker_assignment_return": {"POST": WORKER},
    "worker_reuse_opt_out": {"POST": WORKER},
    "worker_earnings": {"GET": SIGNED_IN},
    "worker_profile": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "worker_payouts": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "worker_statement": {"GET": SIGNED_IN},
    "worker_payout_request": {"POST": SIGNED_IN},
    "worker_payout_cancel": {"POST": WORKER},
    "worker_stripe_onboarding": {"POST": SIGNED_IN},
    "worker_stripe_global_onboarding": {"POST": SIGNED_IN},
    "worker_payout_estimate": {"POST": SIGNED_IN},
    "payout_coverage": {"GET": ANYONE},
    "juror_opt_in": {"POST": SIGNED_IN},  # a non-member is told to join first (409)
    "suspension_appeal": {"POST": SIGNED_IN},
    "dispute_open": {"POST": WORKER},
    "membership_join": {"POST": SIGNED_IN},
    "requester_public": {"GET": ANYONE, "POST": SIGNED_IN},
    # pages: requester
    "org_new": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "org_dashboard": {"GET": REQUESTER},
    "org_profile": {"GET": REQUESTER, "POST": REQUESTER},
    "org_keys": {"GET": REQUESTER, "POST": REQUESTER},
    "org_key_revoke": {"POST": REQUESTER},
    "org_webhooks": {"GET": REQUESTER, "POST": REQUESTER},
    "org_webhook_remove": {"POST": REQUESTER},
    "org_funds": {"GET": REQUESTER, "POST": REQUESTER},
    "org_deposit": {"GET": REQUESTER},
    "org_batch_new": {"GET": REQUESTER, "POST": REQUESTER},
    "org_sandbox": {"GET": REQUESTER, "POST": REQUESTER},  # POST: a play-money top-up
    "org_batch_edit": {"GET": REQUESTER, "POST": REQUESTER},
    "org_batch_delete": {"POST": REQUESTER},
    "org_batch_clone": {"POST": REQUESTER},
    "org_templates": {"GET": REQUESTER, "POST": REQUESTER},
    "org_template_delete": {"POST": REQUESTER},
    "org_template_edit": {"GET": REQUESTER, "POST": REQUESTER},
    "org_settings": {"GET": REQUESTER, "POST": REQUESTER},
    "org_batch_preview": {"POST": REQUESTER},
    "org_batch": {"GET": REQUESTER},
    "org_batch_input": {"POST": REQUESTER},
    "org_review": {"GET": REQUESTER},
    "org_review_bulk": {"POST": REQUESTER},
    "org_review_decide": {"POST": REQUESTER},
    "org_export": {"POST": REQUESTER},  # queues the export job
    "org_review_file": {"GET": REQUESTER, "POST": REQUESTER},
    "org_review_file_download": {"GET": REQUESTER},
    "org_review_table": {"GET": REQUESTER},
    "org_batch_grow": {"GET": REQUESTER, "POST": REQUESTER},
    "org_blocks": {"GET": REQUESTER, "POST": REQUESTER},
    "org_block_remove": {"POST": REQUESTER},
    "org_withdrawals": {"GET": REQUESTER, "POST": REQUESTER},
    "org_notices": {"GET": REQUESTER},
    "org_statements": {"GET": REQUESTER},
    "org_statement": {"GET": REQUESTER},
    "org_receipt": {"GET": REQUESTER},
    "org_batch_action": {"POST": REQUESTER},
    "org_data_report": {"GET": REQUESTER, "POST": REQUESTER},
    "org_verification": {"GET": REQUESTER, "POST": REQUESTER},
    "org_team": {"GET": REQUESTER, "POST": REQUESTER},
    "org_team_member": {"POST": REQUESTER},
    # pages: quality control (issue 27, 20.8, 24.5)
    "org_qualifications": {"GET": REQUESTER, "POST": REQUESTER},
    "org_qualification": {"GET": REQUESTER, "POST": REQUESTER},
    "org_qualification_revoke": {"POST": REQUESTER},
    "org_batch_control_reject": {"POST": REQUESTER},
    "worker_qualification": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "worker_scores": {"GET": SIGNED_IN},
    "invitation": {"GET": SIGNED_IN, "POST": INVITED},
    # pages: staff console
    "staff_console": {"GET": STAFF},
    "staff_verifications": {"GET": VERIFIER},
    "staff_verification": {"GET": VERIFIER},
    "staff_verification_document": {"GET": VERIFIER},
    "staff_verification_decide": {"POST": VERIFIER},
    "staff_organisations": {"GET": STAFF},
    "staff_people": {"GET": STAFF},
    "staff_person_action": {"POST": MODERATOR},
    "staff_audit": {"GET": STAFF},
    "staff_public": {"GET": ANYONE},
    # pages: members
    "proposals": {"GET": MEMBERS, "POST": MEMBERS},
    "proposal": {"GET": MEMBERS},
    "proposal_comment": {"POST": MEMBERS},
    "proposal_vote": {"POST": MEMBERS},
    "proposal_action": {"POST": AUTHOR},
    "dividends": {"GET": MEMBERS | TREASURER},
    "rules": {"GET": ANYONE},
    "rule": {"GET": ANYONE},
    # pages: treasurer
    "treasury": {"GET": TREASURER},
    "treasury_deposit_confirm": {"POST": TREASURER},
    "treasury_payouts": {"GET": TREASURER},
    "treasury_sepa_create": {"POST": TREASURER},
    "treasury_sepa_batch": {"GET": TREASURER},
    "treasury_sepa_download": {"GET": TREASURER},
    "treasury_sepa_payment": {"POST": TREASURER},
    "treasury_sepa_action": {"POST": TREASURER},
    "treasury_dividends": {"GET": TREASURER},
    # pages: cases
    "cases": {"GET": SIGNED_IN},
    "case": {"GET": CASE_READERS},
    "case_action": {"POST": PARTIES},  # action "evidence"
    # notifications: the inbox, settings, unsubscribe, Web Push
    "api-notifications": {"GET": SIGNED_IN},
    "api-notifications-status": {"GET": SIGNED_IN},
    "api-notifications-read-all": {"POST": SIGNED_IN},
    "api-notifications-settings": {"GET": SIGNED_IN, "PATCH": SIGNED_IN},
    "api-push-subscription": {"POST": SIGNED_IN, "DELETE": SIGNED_IN},
    "api-notification-read": {"POST": WORKER},  # the worker's own entry
    "inbox": {"GET": SIGNED_IN},
    "inbox_read_all": {"POST": SIGNED_IN},
    "notification_settings": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "mail_problem_seen": {"POST": SIGNED_IN},
    "inbox_open": {"GET": WORKER},
    "inbox_read": {"POST": WORKER},
    "notification_unsubscribe": {"GET": ANYONE, "POST": ANYONE},  # the signature is the authority
    "push_worker": {"GET": ANYONE},
    "javascript_catalog": {"GET": ANYONE},
    # saved searches and messages about a task
    "api-saved-searches": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api-saved-search": {"DELETE": WORKER},
    "api-assignment-message": {"POST": WORKER},
    "api-task-threads": {"GET": SIGNED_IN},
    "api-task-thread": {"GET": PARTIES, "POST": PARTIES},
    "api-task-thread-share": {"POST": PARTIES},
    "saved_searches": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "saved_search_delete": {"POST": WORKER},
    "assignment_message": {"POST": WORKER},
    "task_threads": {"GET": SIGNED_IN},
    "task_thread": {"GET": PARTIES, "POST": PARTIES},
    "task_thread_share": {"POST": PARTIES},
}

# Bodies for routes that check the input before the caller: a refusal must still be a refusal
# when the input is good. Everything else is sent an empty body, which an allowed caller
# answers with at most a validation error.
BODIES: dict[str, dict[str, Any]] = {
    "api-governance-proposals": {
        "kind": "rule_change",
        "title": "Raise the minimum wage",
        "body": "Rents went up.",
        "rule": "minimum_hourly_wage",
        "proposed_value": 1500,
    },
    "api-governance-comments": {"body": "I agree with this."},
    "api-governance-ballot": {"choice": "yes"},
    "dispute_open": {"statement": "My answer followed the instructions."},
    "case_action": {"text": "Here is what I saw."},
    "api-assignment-message": {"body": "About my answer."},
    "api-task-thread": {"body": "About my answer."},
    "api-task-thread-share": {"share": True},
    "assignment_message": {"body": "About my answer."},
    "task_thread": {"body": "About my answer."},
    # Good input, so that only the role check can refuse.
    "api-staff-verification-approve": {"reason": "Checked the commercial register."},
    "api-staff-verification-refuse": {"code": "registration_not_found", "text": "No such entry."},
    "api-staff-verification-ask": {"text": "Send the register extract."},
    "api-staff-suspend": {"code": "harassment", "reason": "Insulted a juror."},
    "api-staff-lift": {"reason": "Cleared after review."},
    "staff_verification_decide": {"approve-reason": "Checked the commercial register."},
    "staff_person_action": {"suspend-code": "harassment", "suspend-reason": "Insulted a juror."},
    "api-org-members": {"email": "new@example.org", "role": "finance"},
    "org_team": {"email": "new@example.org", "role": "finance"},
}

# Everything the platform owns, plus who may do what (guardian, groups, tokens).
_OWNED_APPS = {
    "core",
    "accounts",
    "ledger",
    "payments",
    "governance",
    "tasks",
    "payouts",
    "disputes",
    "mturk",
    "webhooks",
    "notifications",
}
_OWNED_EXTRA = {"auth.group", "guardian.userobjectpermission", "guardian.groupobjectpermission", "authtoken.token"}


# Signing the caller in (a user's ``last_login``, an API key's ``last_used_at``) is not the
# request's doing.
_NOT_THE_REQUESTS_DOING = {"last_login", "last_used_at"}


def digest() -> dict[str, int]:
    """One hash per table of every row's values: equal digests, unchanged tables."""
    tables: dict[str, int] = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label in _OWNED_APPS or label in _OWNED_EXTRA:
            names = [f.attname for f in model._meta.concrete_fields if f.attname not in _NOT_THE_REQUESTS_DOING]
            rows = list(model._default_manager.order_by("pk").values_list(*names))
            tables[label] = hash(repr(rows))
    return tables


def changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


def _is_api(route: Route) -> bool:
    return route.pattern.startswith("api/")


def refused(route: Route, role: str, response: HttpResponse) -> bool:
    """Refused by the permission checks: anonymous callers are asked to sign in (401 from
    the API, the sign-in page for pages); signed-in callers get 403, or 404 for objects
    they may not know of."""
    if role == "anonymous":
        if _is_api(route):
            return response.status_code == 401
        return response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)
    return response.status_code in (403, 404)


def turned_away(route: Route, role: str, response: HttpResponse) -> bool:
    """What a refused caller may see: a refusal, or on a page form the reason shown to
    the person (the form again with the error, 400, or back with an error message).
    Together with the digest check this says the request was refused and did nothing."""
    if refused(route, role, response) or _is_api(route):
        return refused(route, role, response)
    if response.status_code == 400:
        return True
    return response.status_code == 302 and any(
        message.level == messages.ERROR for message in get_messages(response.wsgi_request)
    )


def _request(
    role: str, world: World, route: Route, method: str, url: str, before: dict[str, int] | None
) -> tuple[HttpResponse, list[str]]:
    """Sends one request as ``role`` in a savepoint rolled back afterwards; returns the
    response and, when ``before`` is given, the tables it changed."""
    with transaction.atomic():
        client = Client()
        person = world.people[role]
        if person is not None:
            client.force_login(person)
        if method == "GET":
            response = client.get(url)
        elif _is_api(route):
            response = client.generic(method, url, json.dumps(BODIES.get(route.name, {})), "application/json")
        else:
            response = client.generic(
                method, url, urlencode(BODIES.get(route.name, {})), "application/x-www-form-urlencoded"
            )
        tables = changed(before, digest()) if before is not None else []
        transaction.set_rollback(True)
    return response, tables


def test_every_route_is_declared() -> None:
    """A new route fails here until the table says who may use it."""
    served = {route.name for route in route_list()}
    assert sorted(served - set(MATRIX)) == [], "routes missing from MATRIX"
    assert sorted(set(MATRIX) - served) == [], "MATRIX names routes that no longer exist"


def test_every_declared_method_is_served() -> None:
    """The table names the methods each route answers; a method it does not answer is a typo."""
    for route in route_list():
        for method in MATRIX.get(route.name, {}):
            assert method in {"GET", "POST", "PUT", "PATCH", "DELETE"}, (route.name, method)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_allowed_and_refused_as_declared(role: str, world: World) -> None:
    wrong: list[str] = []
    before = digest()  # every request is rolled back, so this is the state each one starts from
    for route in route_list():
        url = fill(route, world)
        # An undeclared route fails test_every_route_is_declared; here it is skipped.
        for method, allowed in MATRIX.get(route.name, {}).items():
            response, tables = _request(role, world, route, method, url, None if role in allowed else before)
            status = response.status_code
            where = f"{method} {url} as {role}: {status}"
            if status >= 500:
                wrong.append(f"{where} (server error)")
            elif status == 405:
                wrong.append(f"{where} (the table declares a method the route does not answer)")
            elif role in allowed and refused(route, role, response):
                wrong.append(f"{where} (refused, but the table allows it)")
            elif role not in allowed and not turned_away(route, role, response):
                wrong.append(f"{where} (allowed, but the table refuses it)")
            elif role not in allowed and tables:
                wrong.append(f"{where} (refused, yet changed {', '.join(tables)})")
    assert not wrong, "\n".join(wrong)


# What an API key of the world's organisation may call: that organisation's own endpoints
# (batches, review, funds, its side of its cases). Every other API route, every personal
# one above all (payouts, profile, membership, governance, worker and juror work, ratings,
# claims and the feed, the person's notices, key management), answers 403 and changes nothing.
ORGANISATION_KEY: dict[str, frozenset[str]] = {
    "api-webhooks": frozenset({"GET", "POST"}),
    "api-webhook": frozenset({"DELETE"}),
    "api-webhook-deliveries": frozenset({"GET"}),
    "api-organisations": frozenset({"GET"}),
    "api-organisation": frozenset({"GET", "PATCH"}),  # the defaults, with the publish scope (issue 24)
    "api-deposits": frozenset({"GET", "POST"}),
    "api-deposit": frozenset({"GET"}),
    "api-deposit-payment-intent": frozenset({"POST"}),
    "api-withdrawals": frozenset({"GET", "POST"}),
    "api-balance": frozenset({"GET"}),
    "api-org-notices": frozenset({"GET"}),
    "api-qual-revoke": frozenset({"DELETE"}),
    "api-batches": frozenset({"GET", "POST"}),
    "api-sandbox": frozenset({"GET"}),
    "api-sandbox-top-up": frozenset({"POST"}),
    "api-templates": frozenset({"GET", "POST"}),
    "api-template": frozenset({"GET", "PATCH", "DELETE"}),
    "api-template-starters": frozenset({"GET"}),
    "api-quals": frozenset({"GET", "POST"}),
    "api-qual-grant": frozenset({"POST"}),
    "api-blocks": frozenset({"GET", "POST"}),
    "api-block": frozenset({"DELETE"}),
    "api-batch": frozenset({"GET", "PATCH", "DELETE"}),
    "api-batch-clone": frozenset({"POST"}),
    "api-batch-input": frozenset({"PUT"}),
    "api-batch-publish": frozenset({"POST"}),
    "api-batch-pause": frozenset({"POST"}),
    "api-batch-resume": frozenset({"POST"}),
    "api-batch-cancel": frozenset({"POST"}),
    "api-batch-add": frozenset({"POST"}),
    "api-batch-extend": frozenset({"POST"}),
    "api-submissions": frozenset({"GET"}),
    "api-bulk-approve": frozenset({"POST"}),
    "api-export-csv": frozenset({"GET"}),
    "api-review-file": frozenset({"GET", "POST"}),
    "api-bonus-file": frozenset({"POST"}),
    "api-deposit-receipt": frozenset({"GET"}),
    "api-statement": frozenset({"GET"}),
    "api-export-json": frozenset({"GET"}),
    "api-batch-quality": frozenset({"GET"}),
    "api-control-rejections": frozenset({"POST"}),
    "api-submission": frozenset({"GET"}),
    "api-approve": frozenset({"POST"}),
    "api-reject": frozenset({"POST"}),
    "api-withdraw-rejection": frozenset({"POST"}),
    "api-bonus": frozenset({"POST"}),
    "api-batch-data-report": frozenset({"GET", "POST"}),
    "api-dispute-cases": frozenset({"GET"}),
    "api-dispute-case": frozenset({"GET"}),
    "api-dispute-respond": frozenset({"POST"}),
    "api-dispute-evidence": frozenset({"POST"}),
    "api-dispute-appeal": frozenset({"POST"}),
}
# Served without authentication at all: a key there is simply not looked at.
_OPEN_TO_ANYONE = {"api-schema", "api-docs", "api-register", "api-token", "api-staff-reasons", "api-staff-roles",
    "api-payouts-coverage", "api-payouts-coverage-country",
}  # fmt: skip
# Organisation endpoints a key reaches but whose act needs a capability no key scope gives
# (``manage``: an owner signs in for it); refused by the scope check, 403 ``permission_denied``.
_BEYOND_ANY_SCOPE = {("api-organisation", "PATCH")}


def test_organisation_keys_reach_only_organisation_endpoints(world: World) -> None:
    """Every API route and method, called with the organisation's API key: its organisation's
    endpoints answer; every other one is refused with 403 and changes no row."""
    wrong: list[str] = []
    before = digest()
    for route in route_list():
        if not _is_api(route) or route.name in _OPEN_TO_ANYONE:
            continue
        url = fill(route, world)
        for method, _allowed in MATRIX.get(route.name, {}).items():
            with transaction.atomic():
                client = Client(HTTP_AUTHORIZATION=world.api_key_header)
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.generic(method, url, json.dumps(BODIES.get(route.name, {})), "application/json")
                tables = changed(before, digest())
                transaction.set_rollback(True)
            where = f"{method} {url} with the organisation's key: {response.status_code}"
            if response.status_code >= 500:
                wrong.append(f"{where} (server error)")
            elif method in ORGANISATION_KEY.get(route.name, frozenset()):
                if response.status_code in (401, 403, 404):
                    wrong.append(f"{where} (refused an organisation endpoint)")
            elif response.status_code != 403:
                wrong.append(f"{where} (a personal or staff route answered instead of 403)")
            elif (route.name, method) in _BEYOND_ANY_SCOPE:
                if response.json()["error"]["code"] != "permission_denied" or tables:
                    wrong.append(f"{where} (not refused by the scope check, or changed {', '.join(tables)})")
            elif response.json()["error"]["code"] != "organisation_key_refused":
                wrong.append(f"{where} ({response.json()['error']['code']} instead of organisation_key_refused)")
            elif tables:
                wrong.append(f"{where} (refused, yet changed {', '.join(tables)})")
    assert not wrong, "\n".join(wrong)


def test_the_key_table_names_only_routes_the_matrix_gives_the_requester() -> None:
    """A key never gets more than the organisation's staff may do."""
    for name, methods in ORGANISATION_KEY.items():
        for method in methods:
            assert "requester" in MATRIX[name][method], (name, method)
