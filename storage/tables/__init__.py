"""All tables. Importing this module registers them on ``SQLModel.metadata``."""

from storage.tables.calendar import CalendarOverride
from storage.tables.channels import ChatButtons, InboxEvent, ZaloToken
from storage.tables.consent import Consent
from storage.tables.conversations import Conversation, ProcessedUpdate, TrackingMiss
from storage.tables.dialogue import AgendaItem, DialogueSession, Registration, SessionAgency
from storage.tables.events import Event
from storage.tables.issues import IssueGroupMember, IssueLink
from storage.tables.org import OrgLevel, OrgUnit
from storage.tables.outbox import OutboxMessage
from storage.tables.people import ChannelAccount, MemoGeneration, Person, StaffRole
from storage.tables.petitions import (
    Assignment,
    Attachment,
    Conclusion,
    Extension,
    Petition,
    Topic,
    WrittenResult,
)
from storage.tables.public import PublicRecord
from storage.tables.resolution import ResolutionFeedback
from storage.tables.scheduling import ScheduledRun
from storage.tables.staff import StaffInvite
from storage.tables.web import WebMessage

__all__ = [
    "AgendaItem",
    "Assignment",
    "Attachment",
    "CalendarOverride",
    "ChannelAccount",
    "ChatButtons",
    "Conclusion",
    "Consent",
    "Conversation",
    "DialogueSession",
    "Event",
    "Extension",
    "InboxEvent",
    "IssueGroupMember",
    "IssueLink",
    "MemoGeneration",
    "OrgLevel",
    "OrgUnit",
    "OutboxMessage",
    "Person",
    "Petition",
    "ProcessedUpdate",
    "PublicRecord",
    "Registration",
    "ResolutionFeedback",
    "ScheduledRun",
    "SessionAgency",
    "StaffInvite",
    "StaffRole",
    "Topic",
    "TrackingMiss",
    "WebMessage",
    "WrittenResult",
    "ZaloToken",
]
