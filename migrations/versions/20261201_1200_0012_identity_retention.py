"""Identities deleted on schedule: the date a study's e-mail addresses and names are erased
(study.identity_retention_until) and when the scheduler did it (study.identities_erased_at).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import studyapp.core.types

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing studies have no date yet: the study page asks for one.
    with op.batch_alter_table('study', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_retention_until', sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column('identities_erased_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both databases: a batch operation would copy the study table, which
    # SQLite refuses while other tables' rows refer to it.
    op.execute('ALTER TABLE study DROP COLUMN identities_erased_at')
    op.execute('ALTER TABLE study DROP COLUMN identity_retention_until')
