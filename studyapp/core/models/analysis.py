"""Stored analyses: a researcher (or the demo) asks for one, the scheduler runs it, the pages show it."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from studyapp.core.models._common import created_at_field, in_list, json_field, timestamp_field

ANALYSIS_STATUSES = ("queued", "running", "done", "failed")


class AnalysisRun(SQLModel, table=True):
    """One profile and transition analysis of a cohort's waves; deleted with its study or cohort (CASCADE).

    ``parameters`` holds what was asked (K range, model, starts, bootstrap draws); ``result`` the fitted
    numbers as JSON (fit table, profile means and shares, transitions with intervals, reliability) with
    their ``schema_version``, read only through ``studyapp.analyses.result.load_result`` (which migrates
    older versions); a failed run keeps its traceback there.
    """

    __tablename__ = "analysis_run"
    __table_args__ = (CheckConstraint(in_list("status", ANALYSIS_STATUSES), name="status_known"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", ondelete="CASCADE", index=True)
    cohort_id: int = Field(foreign_key="cohort.id", ondelete="CASCADE", index=True)
    status: str = Field(default="queued", max_length=10)
    # what a running analysis is doing ("loading responses", "fitting K=3 (EEI)", ...), written by the job
    stage: str = Field(default="", max_length=80)
    parameters: dict[str, Any] = json_field()
    result: dict[str, Any] = json_field()
    error: str = Field(default="", max_length=2000)
    requested_by: str = Field(default="", max_length=255)
    created_at: datetime = created_at_field()
    started_at: datetime | None = timestamp_field()
    finished_at: datetime | None = timestamp_field()
