"""Accounts of researchers, admins and company contacts."""

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from studyapp.core.models._common import LANGUAGES, created_at_field, in_list, timestamp_field

ROLES = ("admin", "researcher", "company_contact")


class User(SQLModel, table=True):
    """A person who logs in. A company contact belongs to one organisation (RESTRICT)."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(in_list("role", ROLES), name="role_known"),
        CheckConstraint(
            "role <> 'company_contact' OR organisation_id IS NOT NULL",
            name="company_contact_has_organisation",
        ),
        CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),
        CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name="email_normalised"),
        CheckConstraint(in_list("language", LANGUAGES), name="language_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=20)
    can_view_identities: bool = Field(default=False)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="RESTRICT", index=True)
    active: bool = Field(default=True)
    language: str = Field(default="nl", max_length=2, sa_column_kwargs={"server_default": "nl"})
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = timestamp_field()
    last_login_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()

    # Flask-Login's user interface
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)
