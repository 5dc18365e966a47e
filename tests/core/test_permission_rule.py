"""The one rule for permissions (docs/contracts.md, "Permissions: who checks what"), as far
as it can be read from the code: an endpoint (API view, page, MTurk operation) only calls
public services that act for a person, named by a required keyword (``actor``, ``worker``,
``voter``...). A service without one (no person, or ``actor: User | None = None`` kept only
for the audit row) is a system service: for jobs, webhooks and other apps' services, which
checked before calling it. Calling one from an endpoint skips the checks of the act, which
is how MTurk's ``OverrideRejection`` once settled work behind an open dispute case."""

import ast
import re
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
    "external_submit": "MTurk's externalSubmit: the HMAC-bound assignment id, given only to its holder, authorises",
}


# Modules whose public functions are services, beyond the ``services`` modules themselves.
MORE_SERVICE_MODULES = [
    "platform/accounts/appointments.py",
    "platform/accounts/teams.py",
    "platform/accounts/verification.py",
    "platform/ledger/escrow.py",
    "tasks/play.py",
]
DECLARATIONS = ROOT / "docs" / "permissions.md"
KINDS = {"checks", "system", "reads"}


def _service_modules() -> list[Path]:
    return sorted(
        [
            *ROOT.glob("*/services.py"),
            *ROOT.glob("*/services/*.py"),
            *ROOT.glob("platform/*/services.py"),
            *ROOT.glob("platform/*/services/*.py"),
        ]
    )


def _audited_modules() -> list[Path]:
    paths = [*_service_modules(), *(ROOT / name for name in MORE_SERVICE_MODULES)]
    return sorted(path for path in paths if path.name != "__init__.py")


def _endpoint_modules() -> list[Path]:
    return sorted(
        [
            *ROOT.glob("*/api.py"),
            *ROOT.glob("*/api/*.py"),
            *ROOT.glob("platform/*/api.py"),
            *ROOT.glob("frontend/views/*.py"),
            ROOT / "mturk" / "operations.py",
            ROOT / "mturk" / "views.py",
        ]
    )


def _public_functions(path: Path) -> list[ast.FunctionDef]:
    return [
        n for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
    ]


def _required_people(node: ast.FunctionDef) -> list[str]:
    arguments = node.args
    defaults = dict(zip([a.arg for a in arguments.kwonlyargs], arguments.kw_defaults, strict=True))
    required = [a.arg for a in arguments.kwonlyargs if a.arg in PERSON_KEYWORDS and defaults[a.arg] is None]
    return required + [a.arg for a in arguments.args if a.arg in PERSON_KEYWORDS]


def system_services() -> dict[str, str]:
    """Public services with no required person keyword, by name -> module."""
    found: dict[str, str] = {}
    for path in _service_modules():
        for node in _public_functions(path):
            if not _required_people(node):
                found[node.name] = str(path.relative_to(ROOT))
    return found


HEADING = re.compile(r"^### `(?P<module>[^`]+)`\s*$")
ROW = re.compile(r"^\| `(?P<name>\w+)` \| (?P<kind>\w+) \| (?P<what>.+) \|\s*$")


def declared_services(text: str | None = None) -> dict[tuple[str, str], tuple[str, str]]:
    """``(module, service) -> (kind, what)`` from the tables of docs/permissions.md; a
    service declared twice is an error."""
    declared: dict[tuple[str, str], tuple[str, str]] = {}
    module = None
    for line in (text if text is not None else DECLARATIONS.read_text()).splitlines():
        heading = HEADING.match(line)
        if heading:
            module = heading["module"]
            continue
        row = ROW.match(line)
        if row and module is not None:
            key = (module, row["name"])
            assert key not in declared, f"{module}: {row['name']} is declared twice"
            declared[key] = (row["kind"], row["what"])
    return declared


def undeclared_services(modules: list[Path], declared: dict[tuple[str, str], tuple[str, str]]) -> list[str]:
    """Public functions of ``modules`` that the tables do not declare."""
    return [
        f"{path.relative_to(ROOT)}: {node.name}"
        for path in modules
        for node in _public_functions(path)
        if (str(path.relative_to(ROOT)), node.name) not in declared
    ]


def test_every_public_service_declares_whether_it_checks_or_trusts_its_caller() -> None:
    declared = declared_services()
    modules = _audited_modules()
    assert undeclared_services(modules, declared) == []
    existing = {(str(path.relative_to(ROOT)), node.name) for path in modules for node in _public_functions(path)}
    assert sorted(set(declared) - existing) == []  # declared, but gone or renamed
    assert {kind for kind, _ in declared.values()} <= KINDS


def test_a_new_service_that_does_not_declare_itself_fails(tmp_path: Path) -> None:
    declared = declared_services()
    probe = ROOT / "tasks" / "services" / "batches.py"
    assert undeclared_services([probe], declared) == []
    text = probe.read_text() + "\n\ndef batch_rename(*, batch, actor, title):\n    return batch\n"
    shadow = tmp_path / "batches.py"
    shadow.write_text(text)
    found = [
        f"tasks/services/batches.py: {node.name}"
        for node in _public_functions(shadow)
        if ("tasks/services/batches.py", node.name) not in declared
    ]
    assert found == ["tasks/services/batches.py: batch_rename"]
    table = "### `tasks/services/batches.py`\n\n| `batch_rename` | checks | for `actor`: state |\n"
    assert declared_services(table) == {("tasks/services/batches.py", "batch_rename"): ("checks", "for `actor`: state")}


def test_a_service_that_checks_names_the_person_it_acts_for() -> None:
    declared = declared_services()
    offending = []
    for path in _audited_modules():
        module = str(path.relative_to(ROOT))
        for node in _public_functions(path):
            kind, _ = declared.get((module, node.name), ("", ""))
            if kind == "checks" and not _required_people(node):
                offending.append(f"{module}: {node.name}")
    assert offending == []


def test_the_rule_reads_the_services_it_should() -> None:
    declared = declared_services()
    kinds = {name: kind for (_, name), (kind, _) in declared.items()}
    # The marketplace's outcome services, for the disputes app and the jobs, are system services...
    for name in ("assignment_settle_outcome", "assignment_rejection_finalise", "assignment_rejection_dispute"):
        assert declared[("tasks/services/outcomes.py", name)][0] == "system"
    # ...and what a requester does acts for a person.
    for name in ("assignment_rejection_withdraw", "assignment_approve", "assignment_reject", "case_respond"):
        assert kinds[name] == "checks"
    # Money primitives pay a person without acting for one.
    assert declared[("platform/ledger/escrow.py", "escrow_settle")][0] == "system"
    assert declared[("disputes/services.py", "juror_fee_pay")][0] == "system"


def test_endpoints_call_only_services_that_act_for_a_person() -> None:
    system = {name: module for (module, name), (kind, _) in declared_services().items() if kind == "system"}
    system.update(system_services())
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
