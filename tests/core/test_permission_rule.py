"""The one rule for permissions (docs/contracts.md, "Permissions: who checks what"), as far
as it can be read from the code: an endpoint (API view, page, MTurk operation) only calls
public services that act for a person, named by a required keyword (``actor``, ``worker``,
``voter``...). A service without one (no person, or ``actor: User | None = None`` kept only
for the audit row) is a system service: for jobs, webhooks and other apps' services, which
checked before calling it. Calling one from an endpoint skips the checks of the act, which
is how MTurk's ``OverrideRejection`` once settled work behind an open dispute case."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PERSON_KEYWORDS = {"actor", "worker", "user", "voter", "juror_user", "owner", "author", "created_by"}

# Endpoint calls to services that take no person, each with why that is right.
NOT_ACTING_FOR_A_PERSON = {
    "user_register": "creates the person; nobody is signed in yet",
    "reward_text": "formats an amount; changes nothing",
    "batch_hourly_pay": "arithmetic; changes nothing",
    "qualification_test_pay": "arithmetic from the governed wage floor; changes nothing",
    "sepa_batch_file": "renders a decided file; the batch came through treasury_access_sepa_batch",
    "deposit_payment_intent_ensure": "idempotent retry on a deposit the caller got through access_deposit",
    "notification_test_send": "MTurk's test event, to the key's own destination; changes nothing",
    "unsubscribe_apply": "the signed link is the authority: it acts for the person it was signed for",
}


def _service_modules() -> list[Path]:
    return sorted(
        [
            *ROOT.glob("*/services.py"),
            *ROOT.glob("*/services/*.py"),
            *ROOT.glob("platform/*/services.py"),
            *ROOT.glob("platform/*/services/*.py"),
        ]
    )


def _endpoint_modules() -> list[Path]:
    return sorted(
        [
            *ROOT.glob("*/api.py"),
            *ROOT.glob("*/api/*.py"),
            *ROOT.glob("platform/*/api.py"),
            *ROOT.glob("frontend/views/*.py"),
            ROOT / "mturk" / "operations.py",
        ]
    )


def system_services() -> dict[str, str]:
    """Public services with no required person keyword, by name -> module."""
    found: dict[str, str] = {}
    for path in _service_modules():
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            arguments = node.args
            defaults = dict(zip([a.arg for a in arguments.kwonlyargs], arguments.kw_defaults, strict=True))
            required = [a.arg for a in arguments.kwonlyargs if a.arg in PERSON_KEYWORDS and defaults[a.arg] is None]
            required += [a.arg for a in arguments.args if a.arg in PERSON_KEYWORDS]
            if not required:
                found[node.name] = str(path.relative_to(ROOT))
    return found


def test_the_rule_reads_the_services_it_should() -> None:
    system = system_services()
    # The marketplace's outcome services, for the disputes app and the jobs, are system services...
    for name in ("assignment_settle_outcome", "assignment_rejection_finalise", "assignment_rejection_dispute"):
        assert system[name] == "tasks/services/outcomes.py"
    # ...and what a requester does acts for a person.
    for name in ("assignment_rejection_withdraw", "assignment_approve", "assignment_reject", "case_respond"):
        assert name not in system


def test_endpoints_call_only_services_that_act_for_a_person() -> None:
    system = system_services()
    offending = []
    for path in _endpoint_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
            if name in system and name not in NOT_ACTING_FOR_A_PERSON:
                offending.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name} ({system[name]})")
    assert offending == []


# Service names: ``<entity>_<action>`` (``batch_publish``, ``case_respond``). A name that
# starts with a verb reads the other way round; the ledger's primitives keep TigerBeetle's
# names (docs/contracts.md), and a few pure helpers are named by the value they return.
VERBS = {
    "create", "make", "do", "get", "set", "update", "delete", "send", "mark", "run", "check", "lock", "write",
    "translate", "request", "new", "open", "close", "pay", "approve", "reject", "cancel", "publish", "grant",
}  # fmt: skip
VERB_FIRST_ALLOWED = {
    "lock_accounts": "ledger primitive (TigerBeetle's vocabulary, docs/contracts.md)",
    "write_transfers": "ledger primitive (TigerBeetle's vocabulary, docs/contracts.md)",
    "new_reference": "returns a fresh bank reference code; changes nothing",
    "run_key": "returns the idempotency key of a payout run; changes nothing",
    "request_token_call": "MTurk's UniqueRequestToken bookkeeping, named after MTurk's term",
}


def test_services_are_named_entity_then_action() -> None:
    offending = []
    for path in _service_modules():
        for node in ast.parse(path.read_text()).body:
            public = isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
            if public and node.name.split("_")[0] in VERBS and node.name not in VERB_FIRST_ALLOWED:  # type: ignore[attr-defined]
                offending.append(f"{path.relative_to(ROOT)}: {node.name}")  # type: ignore[attr-defined]
    assert offending == []
