"""Every page the site serves, read from the URL conf: each route that answers a GET with a
page is visited by every role the authorization matrix lets see it, with real objects from
the proof world (``tests/proof/world.py``) and a few more states of the same pages; every
other route is listed with the reason it is not a page. A route added later without being
placed here fails ``test_every_route_is_a_visited_page_or_excluded``.

Pages that only a form's answer shows (a vote's receipt, a payout's estimate, an external
survey's submission) and the error pages are reached by the browser steps in
``STEP_PAGES``; every page template must be rendered by some visit
(``page_templates``), so a page reachable only by a POST cannot be missed either."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from unittest import mock

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from notifications.services import unsubscribe_token
from tasks import services as task_services
from tasks.external import assignment_attempt_public_id
from tasks.models import Assignment, AssignmentAttempt, Batch, Qualification
from tasks.starter_templates import STARTER_TEMPLATES
from tests.factories import UserFactory
from tests.payouts.factories import earn
from tests.proof.routes import Route, every_route, fill, parameters
from tests.proof.test_authorization_matrix import MATRIX
from tests.proof.world import World, world_build
from tests.tasks.factories import make_batch, published_batch

# Whole parts of the URL conf that serve no page of the site's own.
NOT_PAGES_UNDER = {
    "api/": "the JSON API (its documentation page is listed by name below)",
    "admin/": "Django's admin: the operators' database tool with Django's own templates, outside the co-op's roles",
    "webhooks/": "machine endpoints for Stripe, PayPal, Wise and the mail provider: JSON in, status codes out",
}

DOWNLOAD = "a file download (CSV, PDF, XML or a stored file), not a page"
FORM_ACTION = (
    "a form's action (POST only): it redirects to the page the form is on, with the outcome as a message there, "
    "or shows that page again with the errors; the pages it can render are reached through STEP_PAGES"
)
FRAGMENT = "POST only: answers a fragment that htmx puts into a page visited here"
MACHINE = "read by programs, not people"

# Routes of the URL conf that are not pages, by name, with the reason.
NOT_PAGES: dict[str, str] = {
    "ping": MACHINE + ": the load benchmark's plain-text reference",
    "health": MACHINE + ": JSON for load balancers",
    "push_worker": MACHINE + ": the Web Push service worker's JavaScript",
    "javascript_catalog": MACHINE + ": the scripts' words (Django's JavaScript catalog)",
    "endpoint": MACHINE + ": the MTurk-compatible endpoint for boto3 (JSON)",
    "sandbox-endpoint": MACHINE + ": the MTurk-compatible sandbox endpoint for boto3 (JSON)",
    "inbox_open": "only redirects: marks an inbox entry read and goes on to the page it is about",
    "worker_statement": DOWNLOAD,
    "account_data_download": DOWNLOAD,
    "operation_download": DOWNLOAD,
    "org_statement": DOWNLOAD,
    "org_receipt": DOWNLOAD,
    "org_review_file_download": DOWNLOAD,
    "treasury_sepa_download": DOWNLOAD,
    "staff_verification_document": DOWNLOAD,
    "org_batch_preview": FRAGMENT,
    "passkey_options": MACHINE + ": the passkey sign-in's JSON for the browser's WebAuthn call",
    "passkey_verify": MACHINE + ": the passkey sign-in's JSON for the browser's WebAuthn call",
    "passkey_add_options": MACHINE + ": JSON for the browser's WebAuthn call",
    "passkey_add": MACHINE + ": JSON for the browser's WebAuthn call",
    **dict.fromkeys(
        (
            "set_language",
            "logout",
            "passkey_remove",
            "account_data_erase",
            "staff_job_item_release",
            "worker_accept",
            "worker_apply",
            "worker_reuse_opt_out",
            "worker_assignment_submit",
            "worker_assignment_return",
            "worker_assignment_completion_code",
            "worker_payout_request",
            "worker_payout_cancel",
            "worker_stripe_onboarding",
            "worker_stripe_global_onboarding",
            "membership_join",
            "juror_opt_in",
            "suspension_appeal",
            "org_key_revoke",
            "org_webhook_remove",
            "org_team_member",
            "org_block_remove",
            "org_batch_input",
            "org_batch_delete",
            "org_batch_clone",
            "org_template_delete",
            "org_review_bulk",
            "org_review_decide",
            "org_export",
            "org_batch_action",
            "org_qualification_revoke",
            "org_batch_control_reject",
            "proposal_comment",
            "proposal_action",
            "treasury_deposit_confirm",
            "treasury_sepa_create",
            "treasury_sepa_payment",
            "treasury_sepa_action",
            "staff_verification_decide",
            "staff_person_action",
            "case_action",
            "inbox_read_all",
            "mail_problem_seen",
            "inbox_read",
            "saved_search_delete",
            "assignment_message",
            "task_thread_share",
        ),
        FORM_ACTION,
    ),
    # POST only, and each renders a page of its own: visited through STEP_PAGES.
    "worker_payout_estimate": "POST only: its estimate page is visited through STEP_PAGES",
    "proposal_vote": "POST only: its receipt and error page are visited through STEP_PAGES",
    "dispute_open": "POST only: its error page is visited through STEP_PAGES",
    "external-submit": "POST only (external surveys post back): its pages are visited through STEP_PAGES",
}

# Pages the co-op does not write, by name, with the reason they are left out.
THIRD_PARTY_PAGES: dict[str, str] = {
    "api-docs": "drf-spectacular's Swagger UI for developers (served from its sidecar package's files)",
}

# Roles outside the authorization matrix that see a page: the site's operators (``is_staff``)
# and someone between their password and their second factor.
EXTRA_ROLES: dict[str, tuple[str, ...]] = {
    "staff_jobs": ("operator",),
    "login_verify": ("signing_in",),
}


# The matrix's strangers: a worker and a requester with no tie to the world's objects. They
# hold the same roles as the world's worker and requester, whose visits cover those roles'
# pages; a stranger is visited where a page is theirs alone (the invitation is to the other worker).
STRANGERS = {"other_worker": "worker", "other_requester": "requester"}
STRANGER_PAGES = {"invitation": "other_worker"}


@dataclass
class PageWorld:
    """The proof world, and the other states its pages show."""

    world: World
    draft: Batch
    sandbox: Batch
    survey: Batch
    survey_slot: Assignment
    starters: list[Batch]
    starter_slots: list[Assignment]
    tested_qualification: Qualification
    operator: User
    reset_uid: str
    reset_token: str
    unsubscribe: str
    people: dict[str, User | None] = field(default_factory=dict)


def page_world_build() -> PageWorld:
    # The proof tests build the world inside a test's transaction, so no job queued on commit
    # ever runs there (its operation names a job it never sends); here the database commits,
    # so the same world is built with those jobs left unsent.
    with mock.patch.object(transaction, "on_commit"):
        world = world_build()
    organisation = world.organisation
    requester = world.owner()
    worker = world.people["worker"]
    assert worker is not None
    draft = make_batch(organisation, title="Draft batch")
    sandbox = make_batch(organisation, title="Sky check", sandbox=True)
    sandbox = task_services.batch_publish(batch=sandbox, actor=requester)
    survey = published_batch(
        organisation,
        rows=None,
        title="Street names survey",
        template_html="",
        external_url="https://survey.example.org/post-back",
        assignments_per_task=1,
    )
    survey_slot = task_services.assignment_accept(worker=worker, batch=survey)
    tested = task_services.qualification_create(
        organisation=organisation,
        actor=requester,
        name="Bird spotter",
        description="Tells birds apart.",
        test_questions=[
            {"name": "q1", "question": "Which bird is black and white?", "options": ["Magpie", "Robin"]},
            {"name": "q2", "question": "Which bird sings at dawn?"},
        ],
        answer_key={"q1": "Magpie", "q2": "Blackbird"},
    )
    # The co-op's starter templates, each as a batch the worker holds a slot of (see variants).
    starters = [
        published_batch(
            organisation,
            rows=starter.sample_rows,
            title=str(starter.name),
            template_html=starter.template_html,
            assignments_per_task=1,
        )
        for starter in STARTER_TEMPLATES
        if starter.template_html
    ]
    starter_slots = [task_services.assignment_accept(worker=worker, batch=batch) for batch in starters]
    earn(worker, 5_000)  # a balance to estimate a payout for
    operator = cast(User, UserFactory(is_staff=True))
    people = dict(world.people)
    people["operator"] = operator
    people["signing_in"] = worker  # the worker has a passkey: the password opens the second step
    return PageWorld(
        world=world,
        draft=draft,
        sandbox=sandbox,
        survey=survey,
        survey_slot=survey_slot,
        starters=starters,
        starter_slots=starter_slots,
        tested_qualification=tested,
        operator=operator,
        reset_uid=urlsafe_base64_encode(force_bytes(worker.pk)),
        reset_token=default_token_generator.make_token(worker),
        unsubscribe=unsubscribe_token(user_id=worker.pk, category="rejection"),
        people=people,
    )


def survey_public_id(pages: PageWorld) -> str:
    attempt = AssignmentAttempt.objects.filter(assignment=pages.survey_slot).order_by("-id").first()
    assert attempt is not None
    return assignment_attempt_public_id(pages.survey_slot.pk, attempt.pk)


def variants(pages: PageWorld) -> dict[str, list[dict[str, object]]]:
    """Other states of a page than the one the proof world's objects show, by route name:
    the parameters that differ. The first entry replaces the world's own when the world's
    object cannot show the page (a draft to edit)."""
    world = pages.world
    return {
        "org_batch": [{}, {"batch_id": pages.draft.pk}, {"batch_id": pages.sandbox.pk}, {"batch_id": pages.survey.pk}],
        "org_batch_edit": [{"batch_id": pages.draft.pk}],
        "worker_batch": [{}, {"batch_id": pages.sandbox.pk}, {"batch_id": pages.survey.pk}],
        "worker_assignment": [
            {},
            {"assignment_id": world.accepted.pk},
            {"assignment_id": world.rejected.pk},
            {"assignment_id": pages.survey_slot.pk},
        ],
        # The task frames show the requester's own HTML, theirs to make accessible (the proof
        # world's test template, with an unnamed picture and unlabelled fields, is not). The
        # co-op answers for the page around it and for the starter templates it offers, so
        # the frames are visited with batches made from those.
        "worker_batch_preview_frame": [{"batch_id": batch.pk} for batch in pages.starters],
        "worker_assignment_frame": [{"assignment_id": slot.pk} for slot in pages.starter_slots],
        "worker_qualification": [{}, {"qualification_id": pages.tested_qualification.pk}],
        "org_qualification": [{}, {"qualification_id": pages.tested_qualification.pk}],
        "password_reset_confirm": [{}, {"uidb64": pages.reset_uid, "token": pages.reset_token}],
        "notification_unsubscribe": [{}, {"token": pages.unsubscribe}],
    }


@dataclass(frozen=True)
class Visit:
    route: str
    role: str
    url: str


def all_routes() -> list[Route]:
    """Every route of the URL conf, the admin's, the API's and the MTurk endpoint's included."""
    return every_route()


def page_routes() -> list[Route]:
    """The routes that are pages: every route neither under ``NOT_PAGES_UNDER`` nor listed in
    ``NOT_PAGES`` or ``THIRD_PARTY_PAGES``."""
    return [
        route
        for route in all_routes()
        if not route.pattern.startswith(tuple(NOT_PAGES_UNDER))
        and route.name not in NOT_PAGES
        and route.name not in THIRD_PARTY_PAGES
    ]


def roles_for(route: Route) -> tuple[str, ...]:
    """Who may see the page: the matrix's GET roles, or the roles outside the matrix."""
    if route.name in EXTRA_ROLES:
        return EXTRA_ROLES[route.name]
    return tuple(sorted(MATRIX.get(route.name, {}).get("GET", frozenset())))


def visitors(route: Route) -> tuple[str, ...]:
    """The roles the page is visited as: ``roles_for`` without the strangers whose role is
    visited already, unless the page is theirs."""
    roles = roles_for(route)
    return tuple(
        role
        for role in roles
        if role not in STRANGERS or STRANGERS[role] not in roles or STRANGER_PAGES.get(route.name) == role
    )


def _url(route: Route, world: World, overrides: dict[str, object]) -> str:
    values = {**parameters(route, world), **overrides}
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[str(m.group(1))]), route.pattern)


def visits(pages: PageWorld) -> list[Visit]:
    """Every page route, as every role that may see it, in each of its states."""
    states = variants(pages)
    found: list[Visit] = []
    for route in page_routes():
        for overrides in states.get(route.name, [{}]):
            url = _url(route, pages.world, overrides)
            found += [Visit(route.name, role, url) for role in visitors(route)]
    return found


def excluded_gets(pages: PageWorld) -> list[Visit]:
    """The excluded routes that answer a GET, as one role that may call them: their answer is
    checked not to be a page (a download, JSON, a redirect)."""
    found = []
    for route in all_routes():
        if route.name not in NOT_PAGES or "GET" not in MATRIX.get(route.name, {}):
            continue
        roles = sorted(MATRIX[route.name]["GET"])
        role = "worker" if "worker" in roles else "requester" if "requester" in roles else roles[0]
        found.append(Visit(route.name, role, fill(route, pages.world)))
    return found


# Pages only a form's answer shows, and the error pages: browser steps that end on the page
# and return the browser's response for it.
Steps = Callable[[Any, PageWorld], Any]


def _submit(page: Any, action: str, fields: dict[str, str], *, token: bool = True) -> Any:
    """Posts ``fields`` to ``action`` from the page as a form of its own would (with the
    page's CSRF token unless ``token`` is false); returns the response."""
    with page.expect_navigation() as navigation:
        page.evaluate(
            """([action, fields, token]) => {
              const form = document.createElement("form");
              form.method = "post"; form.action = action;
              const add = (name, value) => { const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value; form.appendChild(input); };
              const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
              if (token && csrf) { add("csrfmiddlewaretoken", csrf.value); }
              for (const [name, value] of Object.entries(fields)) { add(name, value); }
              document.body.appendChild(form); form.submit();
            }""",
            [action, fields, token],
        )
    return navigation.value


def _click(page: Any, target: Any) -> Any:
    with page.expect_navigation() as navigation:
        target.click()
    return navigation.value


def _payout_estimate(page: Any, pages: PageWorld) -> Any:
    page.goto("/work/payouts/")
    return _click(page, page.locator("#payout-estimate"))


def _vote_without_choice(page: Any, pages: PageWorld) -> Any:
    page.goto(f"/coop/proposals/{pages.world.proposal.pk}/")
    return _click(page, page.get_by_role("button", name="Cast my vote"))


def _dispute_without_statement(page: Any, pages: PageWorld) -> Any:
    page.goto(f"/work/assignments/{pages.world.submitted.pk}/")
    return _submit(page, f"/work/assignments/{pages.world.submitted.pk}/dispute/", {"statement": ""})


def _unsubscribe(page: Any, pages: PageWorld) -> Any:
    page.goto(f"/notifications/unsubscribe/{pages.unsubscribe}/")
    return _click(page, page.locator("main form button[type=submit]"))


def _survey_posts_back(page: Any, pages: PageWorld) -> Any:
    page.goto("/")
    fields = {"assignmentId": survey_public_id(pages), "street": "Main"}
    return _submit(page, "/mturk/externalSubmit", fields, token=False)


def _survey_posts_back_wrongly(page: Any, pages: PageWorld) -> Any:
    page.goto("/")
    return _submit(page, "/mturk/externalSubmit", {"assignmentId": "not-an-assignment"}, token=False)


def _not_a_member(page: Any, pages: PageWorld) -> Any:
    return page.goto("/coop/proposals/")


def _someone_elses_organisation(page: Any, pages: PageWorld) -> Any:
    return page.goto(f"/org/{pages.world.other_organisation.slug}/")


def _not_found(page: Any, pages: PageWorld) -> Any:
    return page.goto("/work/no-such-page/")


def _form_expired(page: Any, pages: PageWorld) -> Any:
    page.goto("/accounts/login/")
    return _submit(page, "/accounts/login/", {"username": "someone", "password": "secret"}, token=False)


def _request_not_understood(page: Any, pages: PageWorld) -> Any:
    # More fields than Django reads from one request (DATA_UPLOAD_MAX_NUMBER_FIELDS).
    page.goto("/accounts/login/")
    fields = {f"field{number}": "x" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    return _submit(page, "/accounts/login/", fields)


def _server_error(page: Any, pages: PageWorld) -> Any:
    # No page fails on purpose: the handler's answer for an error no view handled is
    # rendered here and served at an address of the site (its stylesheet as on any page).
    from django.test import RequestFactory

    from core.handlers import server_error

    answer = server_error(RequestFactory().get("/work/"))
    address = "**/server-error-example/"
    page.route(address, lambda route: route.fulfill(status=500, body=answer.content, content_type="text/html"))
    response = page.goto("/server-error-example/")
    page.unroute(address)
    return response


@dataclass(frozen=True)
class StepPage:
    role: str
    steps: Steps
    status: int
    template: str


STEP_PAGES: dict[str, StepPage] = {
    "payout estimate": StepPage("worker", _payout_estimate, 200, "frontend/worker/payout_confirm.html"),
    "vote without a choice": StepPage("member", _vote_without_choice, 400, "frontend/member/vote_result.html"),
    "dispute without a statement": StepPage("worker", _dispute_without_statement, 400, "frontend/disputes/open.html"),
    "unsubscribed": StepPage("anonymous", _unsubscribe, 200, "frontend/inbox/unsubscribed.html"),
    "survey submitted": StepPage("anonymous", _survey_posts_back, 200, "mturk/external_submit.html"),
    "survey refused": StepPage("anonymous", _survey_posts_back_wrongly, 404, "mturk/external_submit.html"),
    "members only": StepPage("worker", _not_a_member, 403, "frontend/refusal.html"),
    "another organisation's page": StepPage("requester", _someone_elses_organisation, 404, "frontend/refusal.html"),
    "page not found": StepPage("worker", _not_found, 404, "404.html"),
    "page not found, signed out": StepPage("anonymous", _not_found, 404, "404.html"),
    "form expired": StepPage("anonymous", _form_expired, 403, "403_csrf.html"),
    "request not understood": StepPage("anonymous", _request_not_understood, 400, "400.html"),
    "server error": StepPage("anonymous", _server_error, 500, "500.html"),
}


def page_templates() -> set[str]:
    """Every template of the project that is a whole page (extends the site's layout or is
    its own HTML document), by the name views render it with."""
    names: set[str] = set()
    for folder in ("frontend/templates", "mturk/templates"):
        root = Path(settings.BASE_DIR) / folder
        for path in root.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            if re.search(r'{% extends "frontend/(base|bare)\.html" %}', text) or "<html" in text:
                names.add(path.relative_to(root).as_posix())
    return names - {"frontend/base.html", "frontend/bare.html"}
