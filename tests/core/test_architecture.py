"""The import contracts of ``.importlinter`` (issue 18): the layers, services never
importing jobs, no cycle between apps or between the modules of an app. The same
contracts run in ``make lint`` and CI (``lint-imports``); here they also prove that they
catch what they are for: an upward import, a new circle, a service importing a job."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from importlinter import configuration
from importlinter.application import use_cases

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / ".importlinter")


@pytest.fixture(autouse=True)
def _in_the_checkout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(ROOT)
    yield


def broken_contracts(monkeypatch: pytest.MonkeyPatch, *extra_imports: tuple[str, str]) -> list[str]:
    """Names of the contracts broken once ``extra_imports`` join the real import graph."""
    real_build = use_cases._build_graph

    def build(**kwargs: Any) -> Any:
        graph = real_build(**{**kwargs, "cache_dir": None})
        for importer, imported in extra_imports:
            graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
        return graph

    configuration.configure()
    monkeypatch.setattr(use_cases, "_build_graph", build)
    options = use_cases.read_user_options(config_filename=CONFIG)
    use_cases._register_contract_types(options)
    report = use_cases.create_report(options, cache_dir=None)
    assert not report.could_not_run
    return sorted(contract.name for contract, check in report.get_contracts_and_checks() if not check.kept)


LAYERS = (
    "One direction: frontend and bench > webhooks > mturk and disputes > tasks and payouts > governance > platform core"
)
NO_JOBS = "Services never import jobs: follow-up work is queued by its registered name after commit"
APPS_ACYCLIC = "No import cycle between the apps"
MODULES_ACYCLIC = "No import cycle between the modules of any app"


def test_every_contract_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    assert broken_contracts(monkeypatch) == []


def test_the_core_importing_governance_breaks_the_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    # What ledger.escrow and accounts.services did before the rule reader moved to core.rules.
    # Governance reads the ledger (the patronage dividend), so the upward import now also closes a cycle.
    assert broken_contracts(monkeypatch, ("ledger.escrow", "governance.selectors")) == [APPS_ACYCLIC, LAYERS]


def test_the_marketplace_importing_disputes_breaks_the_layers_and_makes_a_cycle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert broken_contracts(monkeypatch, ("tasks.services", "disputes.selectors")) == [APPS_ACYCLIC, LAYERS]


def test_a_cycle_inside_the_platform_core_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # The core's apps share a layer, so only the cycle contract sees this circle.
    assert broken_contracts(monkeypatch, ("core.audit", "ledger.models")) == [APPS_ACYCLIC]


def test_a_cycle_between_the_modules_of_an_app_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    assert broken_contracts(monkeypatch, ("governance.models", "governance.selectors")) == [MODULES_ACYCLIC]


def test_a_service_importing_a_job_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    assert broken_contracts(monkeypatch, ("governance.services", "governance.jobs")) == [MODULES_ACYCLIC, NO_JOBS]
