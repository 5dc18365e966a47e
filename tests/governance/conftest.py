"""Governance fixtures."""

import pytest

from tests.governance.factories import founding_rules_reload


@pytest.fixture
def founding_rules(transactional_db: None) -> None:
    """The founding classes and rules, for a transactional test (see ``founding_rules_reload``)."""
    founding_rules_reload()
