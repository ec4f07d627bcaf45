"""The data model of DESIGN.md as SQLModel tables (Alembic owns the schema)."""

from studyapp.core.models.accounts import ROLES, User
from studyapp.core.models.audit import AuditEvent
from studyapp.core.models.fieldwork import Invitation, OutboxMessage, SchedulerHeartbeat
from studyapp.core.models.instrument import Facet, Instrument, InstrumentSection, Item
from studyapp.core.models.organisation import SECTORS, Briefing, Organisation
from studyapp.core.models.participant import ConsentEvent, Identity, Participant
from studyapp.core.models.responses import Answer, Response
from studyapp.core.models.study import WAVE_SCHEDULES, Cohort, Study, Wave

__all__ = [
    "ROLES",
    "SECTORS",
    "WAVE_SCHEDULES",
    "Answer",
    "AuditEvent",
    "Briefing",
    "Cohort",
    "ConsentEvent",
    "Facet",
    "Identity",
    "Instrument",
    "InstrumentSection",
    "Invitation",
    "Item",
    "Organisation",
    "OutboxMessage",
    "Participant",
    "Response",
    "SchedulerHeartbeat",
    "Study",
    "User",
    "Wave",
]
