"""One vocabulary for states (issue 18, point 5): each state is spelled as its model's
``TextChoices`` member, in the transition tables and in the code that compares or filters
on a state, never as a bare string that a typo would silently turn into "no match"."""

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.db.models import TextChoices

from core.states import StateMachine

ROOT = Path(__file__).resolve().parents[2]
STATE_MODULES = ["tasks.states", "disputes.states", "governance.states", "payouts.states", "payments.states"]
STATE_FIELDS = {"status", "state"}

# Where a bare state string may stay, each with why. Nothing else: the code and the tests
# compare and filter states by the models' members.
ALLOWED = {
    # A Stripe Refund object's status, not one of our models' states.
    ("platform/payments/services.py", "withdrawal_refunds_send"),
    # The in-process fakes of Stripe answer with Stripe's own objects and statuses.
    ("tests/fakes/stripe_api.py", "*"),
    ("tests/fakes/stripe_v2.py", "*"),
}
# A test telling a provider's fake how its object ended (``fake_stripe.payout_settle(...,
# status="failed")``, a Stripe payment intent's ``intent.update(status="canceled")``) speaks the
# provider's words, not a model's state; nor is Playwright's ``locator.wait_for(state="detached")``:
# keywords of calls to these are not states.
PROVIDER_CALL = re.compile(r"fake|^intent\.update$|\.wait_for$")


@pytest.mark.parametrize("module_name", STATE_MODULES)
def test_every_transition_table_names_its_states_by_the_models_members(module_name: str) -> None:
    module = importlib.import_module(module_name)
    machines = [value for value in vars(module).values() if isinstance(value, StateMachine)]
    assert machines, module_name
    for machine in machines:
        for action, (sources, target) in machine.transitions.items():
            for state in [*sources, target]:
                assert isinstance(state, TextChoices), f"{module_name} {machine.name}.{action}: {state!r}"


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [text for element in node.elts for text in _strings(element)]
    return []


def _is_state_keyword(name: str | None) -> bool:
    if not name:
        return False
    parts = name.split("__")
    if parts[-1] == "in":
        parts = parts[:-1]
    return parts[-1] in STATE_FIELDS


def bare_state_strings(path: Path, relative: str | None = None) -> list[str]:
    """Comparisons (``x.status == "open"``) and filters (``status="open"``,
    ``batch__status__in=("a", "b")``) written with bare strings, outside ``ALLOWED``."""
    relative = relative or str(path.relative_to(ROOT))
    found = []
    tree = ast.parse(path.read_text())
    for function in [tree, *[n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]]:
        name = function.name if isinstance(function, ast.FunctionDef) else "<module>"
        if (relative, name) in ALLOWED or (relative, "*") in ALLOWED:
            continue
        body = function.body if isinstance(function, ast.FunctionDef) else []
        nodes = [n for statement in body for n in ast.walk(statement)]
        provider = {
            id(keyword)
            for call in nodes
            if isinstance(call, ast.Call) and PROVIDER_CALL.search(ast.unparse(call.func))
            for keyword in call.keywords
        }
        for node in nodes:
            if id(node) in provider:
                continue
            compared = isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute)
            if compared and node.left.attr in STATE_FIELDS and any(_strings(c) for c in node.comparators):  # type: ignore[attr-defined]
                found.append(f"{relative}:{node.lineno} ({name})")
            if isinstance(node, ast.keyword) and _is_state_keyword(node.arg) and _strings(node.value):
                found.append(f"{relative}:{node.lineno} ({name})")
    return sorted(set(found))


def _code_modules() -> list[Path]:
    patterns = [
        "*/services.py",
        "*/services/*.py",
        "*/selectors.py",
        "*/jobs.py",
        "*/api.py",
        "*/api/*.py",
        "mturk/operations.py",
        "frontend/views/*.py",
    ]
    paths = {p for pattern in patterns for p in ROOT.glob(pattern)}
    paths |= {p for pattern in patterns for p in (ROOT / "platform").glob(pattern)}
    return sorted(p for p in paths if "tests" not in p.parts)


def test_the_code_compares_and_filters_states_by_the_models_members() -> None:
    offending = [spot for path in _code_modules() for spot in bare_state_strings(path)]
    assert offending == []


def test_the_tests_compare_and_filter_states_by_the_models_members() -> None:
    """The tests too: ``assert case.state == Case.State.VOTING``, ``filter(status=...)``."""
    offending = [spot for path in sorted((ROOT / "tests").rglob("*.py")) for spot in bare_state_strings(path)]
    assert offending == []


def test_the_check_sees_a_bare_state_string(tmp_path: Path) -> None:
    sample = ROOT / "tasks" / "services" / "batches.py"
    assert bare_state_strings(sample) == []
    text = (
        'def f(slot, Assignment):\n    return slot.status == "open" or Assignment.objects.filter(status__in=("a",))\n'
    )
    probe = tmp_path / "probe.py"
    probe.write_text(text)
    assert bare_state_strings(probe, relative="tasks/probe.py") == ["tasks/probe.py:2 (f)"]
