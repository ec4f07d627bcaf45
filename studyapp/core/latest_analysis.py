"""What the fieldwork engine and the exports read of a cohort's latest finished analysis.

Both sit below the analyses feature in the layers, so they cannot use its typed result
(:class:`studyapp.analyses.result.AnalysisResult`); they read the few fields they need of the stored JSON
here, in one place, and ``tests/test_analysis_result.py`` checks that a typed result, once stored, reads
the same through these functions. Results kept before a field existed give nothing for it.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from studyapp.core.models import AnalysisRun


def latest_finished(session: Session, cohort_id: int) -> AnalysisRun | None:
    """The cohort's analysis that finished last (``done``), or ``None``."""
    return session.exec(
        select(AnalysisRun)
        .where(AnalysisRun.cohort_id == cohort_id, AnalysisRun.status == "done")
        .order_by(col(AnalysisRun.finished_at).desc(), col(AnalysisRun.id).desc())
    ).first()


def attrition_weights(stored: dict[str, Any] | None) -> list[tuple[str, str, float]]:
    """``(pseudonym, wave label, weight)`` of everyone still answering at each wave
    (:class:`~studyapp.analyses.result.Attrition`'s ``weights``)."""
    rows = ((stored or {}).get("attrition") or {}).get("weights") or []
    return [(str(pseudonym), str(wave), float(weight)) for pseudonym, wave, weight in rows]


def modal_profiles(stored: dict[str, Any] | None) -> dict[tuple[str, str], str]:
    """Each participant-wave's most likely profile by name: ``(pseudonym, wave label) -> name``
    (:class:`~studyapp.analyses.result.Transitions`' ``assignments`` and ``names``)."""
    transitions = (stored or {}).get("transitions") or {}
    names = transitions.get("names") or []
    return {
        (str(pseudonym), str(wave)): str(names[profile])
        for pseudonym, wave, profile in transitions.get("assignments") or []
        if 0 <= int(profile) < len(names)
    }


__all__ = ["attrition_weights", "latest_finished", "modal_profiles"]
