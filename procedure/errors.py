"""Refusals: a rule of the procedure said no. Each carries a catalogue key and its values, so the
chat and the CLI show the same Vietnamese sentence (see texts/vi.toml)."""

from __future__ import annotations

from texts import t


class Refusal(Exception):
    """An action the procedure does not allow, with the reason for a person to read."""

    def __init__(self, key: str, /, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    @property
    def message(self) -> str:
        return t(self.key, **self.values)

    def __str__(self) -> str:
        return self.message


class NotFound(Refusal):
    """Something named by the user does not exist, or is not theirs to see (no enumeration)."""


class NotAllowed(Refusal):
    """The actor's role or org unit does not allow the action."""


class InvalidTransition(Refusal):
    """The lifecycle does not allow going from the current state to the next one."""
