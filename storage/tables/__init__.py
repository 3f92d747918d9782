"""All tables. Importing this module registers them on ``SQLModel.metadata``."""

from storage.tables.calendar import CalendarOverride
from storage.tables.dialogue import AgendaItem, DialogueSession, Registration, SessionAgency
from storage.tables.events import Event
from storage.tables.org import OrgLevel, OrgUnit
from storage.tables.people import ChannelAccount, Person, StaffRole
from storage.tables.petitions import (
    Assignment,
    Conclusion,
    Extension,
    Petition,
    Topic,
    WrittenResult,
)

__all__ = [
    "AgendaItem",
    "Assignment",
    "CalendarOverride",
    "ChannelAccount",
    "Conclusion",
    "DialogueSession",
    "Event",
    "Extension",
    "OrgLevel",
    "OrgUnit",
    "Person",
    "Petition",
    "Registration",
    "SessionAgency",
    "StaffRole",
    "Topic",
    "WrittenResult",
]
