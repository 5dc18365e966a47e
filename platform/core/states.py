"""Explicit state machines: each app's ``states.py`` declares a transition table
and services check every move against it before writing."""

from collections.abc import Mapping

from core.errors import InvalidTransition


class StateMachine:
    """``transitions`` maps an action name to (allowed source states, target state)."""

    def __init__(self, name: str, transitions: Mapping[str, tuple[frozenset[str], str]]) -> None:
        self.name = name
        self.transitions = dict(transitions)

    def target(self, current: str, action: str) -> str:
        """The state ``action`` leads to from ``current``; raises ``InvalidTransition``."""
        sources, target = self.transitions[action]
        if current not in sources:
            raise InvalidTransition(self.name, current, action)
        return target

    def sources(self, action: str) -> frozenset[str]:
        return self.transitions[action][0]

    def allowed(self, current: str, action: str) -> bool:
        return current in self.transitions[action][0]
