"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 20:03:15.686556
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import studyapp.core.types

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('instrument',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('checksum', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('loaded_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_instrument_code_version'))
    )
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('sector', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("name <> ''", name=op.f('ck_organisation_name_present')),
    sa.CheckConstraint("sector IS NULL OR sector IN ('technical_industry', 'technical_consultancy', 'non_technical', 'higher_education')", name=op.f('ck_organisation_sector_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name'))
    )
    op.create_table('scheduler_heartbeat',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('hostname', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_tick_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ticks', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_heartbeat'))
    )
    op.create_table('study',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("slug <> '' AND name <> ''", name=op.f('ck_study_slug_and_name_present')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study')),
    sa.UniqueConstraint('slug', name=op.f('uq_study_slug'))
    )
    op.create_table('cohort',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("name <> ''", name=op.f('ck_cohort_name_present')),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_cohort_study_id_study'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort')),
    sa.UniqueConstraint('study_id', 'name', name=op.f('uq_cohort_study_id_name'))
    )
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_study_id'), ['study_id'], unique=False)

    op.create_table('facet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('min_answered', sa.Float(), nullable=False),
    sa.CheckConstraint("kind IN ('facet', 'scale')", name=op.f('ck_facet_kind_known')),
    sa.CheckConstraint('min_answered > 0 AND min_answered <= 1', name=op.f('ck_facet_min_answered_share')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_facet_instrument_id_instrument'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facet')),
    sa.UniqueConstraint('instrument_id', 'code', name=op.f('uq_facet_instrument_id_code'))
    )
    with op.batch_alter_table('facet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facet_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('instrument_section',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('intro', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_instrument_section_instrument_id_instrument'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_section')),
    sa.UniqueConstraint('instrument_id', 'code', name=op.f('uq_instrument_section_instrument_id_code')),
    sa.UniqueConstraint('instrument_id', 'position', name=op.f('uq_instrument_section_instrument_id_position'))
    )
    with op.batch_alter_table('instrument_section', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_section_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('can_view_identities', sa.Boolean(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name=op.f('ck_user_account_email_normalised')),
    sa.CheckConstraint("role <> 'company_contact' OR organisation_id IS NOT NULL", name=op.f('ck_user_account_company_contact_has_organisation')),
    sa.CheckConstraint("role IN ('admin', 'researcher', 'company_contact')", name=op.f('ck_user_account_role_known')),
    sa.CheckConstraint('failed_logins >= 0', name=op.f('ck_user_account_failed_logins_not_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_account_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('target_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('target_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('ip_address', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_audit_event_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_user_id'), ['user_id'], unique=False)

    op.create_table('item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('facet_id', sa.Integer(), nullable=True),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('text', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('min_value', sa.Integer(), nullable=True),
    sa.Column('max_value', sa.Integer(), nullable=True),
    sa.Column('max_length', sa.Integer(), nullable=True),
    sa.Column('reverse', sa.Boolean(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.CheckConstraint("reverse = false OR type = 'scale'", name=op.f('ck_item_reverse_only_on_scales')),
    sa.CheckConstraint("type IN ('scale', 'choice', 'text', 'number')", name=op.f('ck_item_type_known')),
    sa.CheckConstraint('max_length IS NULL OR max_length > 0', name=op.f('ck_item_max_length_positive')),
    sa.CheckConstraint('min_value IS NULL OR max_value IS NULL OR min_value < max_value', name=op.f('ck_item_range_ordered')),
    sa.ForeignKeyConstraint(['facet_id'], ['facet.id'], name=op.f('fk_item_facet_id_facet'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_item_instrument_id_instrument'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['instrument_section.id'], name=op.f('fk_item_section_id_instrument_section'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item')),
    sa.UniqueConstraint('instrument_id', 'code', name=op.f('uq_item_instrument_id_code')),
    sa.UniqueConstraint('section_id', 'position', name=op.f('uq_item_section_id_position'))
    )
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_facet_id'), ['facet_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_section_id'), ['section_id'], unique=False)

    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('enrolled_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("pseudonym <> ''", name=op.f('ck_participant_pseudonym_present')),
    sa.CheckConstraint("status IN ('active', 'unsubscribed', 'withdrawn', 'erased')", name=op.f('ck_participant_status_known')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_participant_cohort_id_cohort'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_participant_organisation_id_organisation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_participant_pseudonym'))
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('wave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('schedule', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('opens_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closes_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('offset_days', sa.Integer(), nullable=True),
    sa.Column('window_days', sa.Integer(), nullable=True),
    sa.Column('reminder_days', sa.JSON(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(schedule = 'on_date' AND opens_at IS NOT NULL AND closes_at IS NOT NULL AND closes_at > opens_at AND offset_days IS NULL AND window_days IS NULL) OR (schedule <> 'on_date' AND opens_at IS NULL AND closes_at IS NULL AND offset_days IS NOT NULL AND offset_days >= 0 AND window_days IS NOT NULL AND window_days >= 1)", name=op.f('ck_wave_schedule_consistent')),
    sa.CheckConstraint("label <> ''", name=op.f('ck_wave_label_present')),
    sa.CheckConstraint("schedule IN ('on_date', 'after_enrolment', 'after_previous')", name=op.f('ck_wave_schedule_known')),
    sa.CheckConstraint('position >= 1', name=op.f('ck_wave_position_positive')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_wave_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_wave_instrument_id_instrument'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wave')),
    sa.UniqueConstraint('cohort_id', 'label', name=op.f('uq_wave_cohort_id_label')),
    sa.UniqueConstraint('cohort_id', 'position', name=op.f('uq_wave_cohort_id_position'))
    )
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wave_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wave_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('briefing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('wave_id', sa.Integer(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('checksum', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_briefing_language_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_briefing_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_briefing_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_briefing_study_id_study'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_briefing_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_briefing'))
    )
    with op.batch_alter_table('briefing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_briefing_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_briefing_study_id'), ['study_id'], unique=False)

    op.create_table('consent_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('keep_data', sa.Boolean(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("actor IN ('participant', 'researcher', 'system')", name=op.f('ck_consent_event_actor_known')),
    sa.CheckConstraint("kind IN ('consent_given', 'mail_stopped', 'mail_resumed', 'withdrawn', 'erasure_requested', 'erased')", name=op.f('ck_consent_event_kind_known')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_consent_event_participant_id_participant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_consent_event_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_event'))
    )
    with op.batch_alter_table('consent_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_event_participant_id'), ['participant_id'], unique=False)

    op.create_table('identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('email_encrypted', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name_encrypted', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('email_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('external_id_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_identity_language_known')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_identity_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity')),
    sa.UniqueConstraint('participant_id', name=op.f('uq_identity_participant_id'))
    )
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_email_hash'), ['email_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_external_id_hash'), ['external_id_hash'], unique=False)

    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('opens_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closes_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opened_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('planned', 'sent', 'opened', 'started', 'completed', 'failed', 'expired')", name=op.f('ck_invitation_state_known')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_invitation_participant_id_participant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_invitation_wave_id_wave'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('participant_id', 'wave_id', name=op.f('uq_invitation_participant_id_wave_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_wave_id'), ['wave_id'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('invitation', 'reminder', 'test', 'notification', 'account')", name=op.f('ck_outbox_message_kind_known')),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_outbox_message_language_known')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_outbox_message_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_message_attempts_not_negative')),
    sa.CheckConstraint('participant_id IS NOT NULL OR user_id IS NOT NULL', name=op.f('ck_outbox_message_has_recipient')),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_outbox_message_invitation_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_outbox_message_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_outbox_message_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_message_idempotency_key'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_user_id'), ['user_id'], unique=False)

    op.create_table('response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('current_section', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('started_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_response_language_known')),
    sa.CheckConstraint("source IN ('web', 'import')", name=op.f('ck_response_source_known')),
    sa.CheckConstraint('submitted_at IS NULL OR submitted_at >= started_at', name=op.f('ck_response_submitted_after_start')),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_response_invitation_id_invitation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_response_invitation_id'))
    )
    op.create_table('answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('value_number', sa.Integer(), nullable=True),
    sa.Column('value_text', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('updated_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('value_number IS NOT NULL OR value_text IS NOT NULL', name=op.f('ck_answer_has_value')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_answer_item_id_item'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_answer_response_id_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer')),
    sa.UniqueConstraint('response_id', 'item_id', name=op.f('uq_answer_response_id_item_id'))
    )
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answer_response_id'), ['response_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_response_id'))
        batch_op.drop_index(batch_op.f('ix_answer_item_id'))

    op.drop_table('answer')
    op.drop_table('response')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_user_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_status'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_participant_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_invitation_id'))

    op.drop_table('outbox_message')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_wave_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_participant_id'))

    op.drop_table('invitation')
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_external_id_hash'))
        batch_op.drop_index(batch_op.f('ix_identity_email_hash'))

    op.drop_table('identity')
    with op.batch_alter_table('consent_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_event_participant_id'))

    op.drop_table('consent_event')
    with op.batch_alter_table('briefing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_briefing_study_id'))
        batch_op.drop_index(batch_op.f('ix_briefing_organisation_id'))

    op.drop_table('briefing')
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wave_instrument_id'))
        batch_op.drop_index(batch_op.f('ix_wave_cohort_id'))

    op.drop_table('wave')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_participant_cohort_id'))

    op.drop_table('participant')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_section_id'))
        batch_op.drop_index(batch_op.f('ix_item_instrument_id'))
        batch_op.drop_index(batch_op.f('ix_item_facet_id'))

    op.drop_table('item')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_organisation_id'))

    op.drop_table('user_account')
    with op.batch_alter_table('instrument_section', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_section_instrument_id'))

    op.drop_table('instrument_section')
    with op.batch_alter_table('facet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facet_instrument_id'))

    op.drop_table('facet')
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_study_id'))

    op.drop_table('cohort')
    op.drop_table('study')
    op.drop_table('scheduler_heartbeat')
    op.drop_table('organisation')
    op.drop_table('instrument')
