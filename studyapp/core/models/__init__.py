"""The data model of DESIGN.md as SQLModel tables (Alembic owns the schema)."""

from studyapp.core.models._common import LANGUAGES, key
from studyapp.core.models.accounts import ROLES, User
from studyapp.core.models.analysis import ANALYSIS_STATUSES, AnalysisRun
from studyapp.core.models.audit import AuditEvent
from studyapp.core.models.fieldwork import (
    MESSAGE_KINDS,
    Invitation,
    InvitationToken,
    MailboxMessage,
    MessageTemplate,
    OutboxMessage,
    RepresentativenessFigures,
    SchedulerHeartbeat,
)
from studyapp.core.models.instrument import Facet, Instrument, InstrumentSection, Item
from studyapp.core.models.organisation import (
    BRIEFING_RUN_STATUSES,
    SECTORS,
    Briefing,
    BriefingRun,
    Organisation,
    OrganisationAlias,
)
from studyapp.core.models.participant import PARTICIPANT_STATUSES, ConsentEvent, Identity, Participant
from studyapp.core.models.responses import Answer, Response
from studyapp.core.models.study import LINKAGE_MODES, WAVE_SCHEDULES, Cohort, Study, Wave
from studyapp.core.models.uploads import LinkageCode, PendingUpload

__all__ = [
    "ANALYSIS_STATUSES",
    "BRIEFING_RUN_STATUSES",
    "LANGUAGES",
    "LINKAGE_MODES",
    "MESSAGE_KINDS",
    "PARTICIPANT_STATUSES",
    "ROLES",
    "SECTORS",
    "WAVE_SCHEDULES",
    "AnalysisRun",
    "Answer",
    "AuditEvent",
    "Briefing",
    "BriefingRun",
    "Cohort",
    "ConsentEvent",
    "Facet",
    "Identity",
    "Instrument",
    "InstrumentSection",
    "Invitation",
    "InvitationToken",
    "Item",
    "LinkageCode",
    "MailboxMessage",
    "MessageTemplate",
    "Organisation",
    "OrganisationAlias",
    "OutboxMessage",
    "Participant",
    "PendingUpload",
    "RepresentativenessFigures",
    "Response",
    "SchedulerHeartbeat",
    "Study",
    "User",
    "Wave",
    "key",
]
