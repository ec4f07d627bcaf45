"""Personal feedback after submitting: scores beside the sample, the profile one resembles, movement.

The statistics are :mod:`analysis.personal_feedback`'s; this module loads the answers, scores them with
:mod:`analysis.scoring` and prepares what the feedback page and PDF show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from flask import render_template
from markupsafe import Markup, escape
from sqlalchemy import func
from sqlmodel import Session, col, select

from analysis.personal_feedback import compare_to_sample, movement, resemble_profile
from analysis.reference_profiles import REFERENCE_PROFILES, UNMATCHED
from analysis.scoring import ScaleDefinition, scales_from_instrument, score
from studyapp.core.models import Answer, Cohort, Instrument, Invitation, Item, Response, Study, Wave
from studyapp.formatting import decimal, shorten
from studyapp.questionnaire.responses import stored_answers
from studyapp.reports import render_report_pdf

CAREER_SCALES = ("career_clarity", "career_commitment", "career_exploration")
IDENTITY_DOMAINS = ("interests", "values", "competences", "goals", "personality")
_SAMPLE_CACHE: dict[tuple[Any, ...], pd.DataFrame] = {}


@dataclass(frozen=True)
class ScoreLine:
    """One facet or scale score beside the sample."""

    code: str
    name: str
    domain: str
    score: float
    sample_mean: float | None
    percentile: float | None
    z: float


@dataclass(frozen=True)
class Change:
    """How one score moved since the previous wave."""

    name: str
    previous: float
    current: float
    change: float
    direction: str


@dataclass
class PersonalFeedback:
    """Everything the feedback page and PDF show."""

    wave_label: str
    language: str
    sample_n: int
    compared_with_sample: bool
    scale_min: float
    scale_max: float
    domains: list[tuple[str, list[ScoreLine]]] = field(default_factory=list)
    career: list[ScoreLine] = field(default_factory=list)
    others: list[ScoreLine] = field(default_factory=list)
    profile: str | None = None
    profile_similarity: float | None = None
    profile_description: str = ""
    profile_high: list[str] = field(default_factory=list)
    profile_low: list[str] = field(default_factory=list)
    runners_up: list[str] = field(default_factory=list)
    previous_wave: str | None = None
    previous_profile: str | None = None
    changes: list[Change] = field(default_factory=list)

    def chart(self, lines: list[ScoreLine], t: dict[str, str]) -> Markup:
        """A horizontal bar chart (SVG) of ``lines``: own score as a bar, the sample mean as a tick."""
        return score_chart(
            lines,
            self.scale_min,
            self.scale_max,
            you=t["feedback_you"],
            mean=t["feedback_sample"],
            language=self.language,
        )


def personal_feedback(*, session: Session, response: Response, language: str) -> PersonalFeedback:
    """The feedback for a submitted response, in ``language``."""
    invitation = session.get_one(Invitation, response.invitation_id)
    wave = session.get_one(Wave, invitation.wave_id)
    cohort = session.get_one(Cohort, wave.cohort_id)
    study = session.get_one(Study, cohort.study_id)
    instrument = session.get_one(Instrument, wave.instrument_id)
    definition = instrument.definition
    scales = scales_from_instrument(definition)
    names = {f["code"]: f["name"].get(language) or next(iter(f["name"].values())) for f in definition["facets"]}
    domains = {f["code"]: f["domain"] for f in definition["facets"]}
    scale_min = min(s.min_value for s in scales) if scales else 1
    scale_max = max(s.max_value for s in scales) if scales else 7

    own = _scores(stored_answers(session=session, response=response), scales)
    sample = sample_scores(session=session, study=study, instrument=instrument, scales=scales)
    compared = compare_to_sample(own, sample, scale_min=scale_min, scale_max=scale_max)
    report = PersonalFeedback(
        wave_label=wave.label,
        language=language,
        sample_n=len(sample),
        compared_with_sample=bool((compared["basis"] == "sample").all()) if len(compared) else False,
        scale_min=scale_min,
        scale_max=scale_max,
    )
    lines = [_line(str(code), row, names, domains) for code, row in compared.iterrows() if not math.isnan(row["score"])]
    for domain in IDENTITY_DOMAINS:
        chosen = [line for line in lines if line.domain == domain]
        if chosen:
            report.domains.append((domain, chosen))
    report.career = [line for code in CAREER_SCALES for line in lines if line.code == code]
    report.others = [line for line in lines if line.domain not in IDENTITY_DOMAINS and line not in report.career]

    current_profile = _describe_profile(report, compared["z"], names, language)
    previous = _previous_response(session=session, response=response, study=study)
    if previous is not None:
        previous_response, previous_wave, previous_scales = previous
        before = _scores(stored_answers(session=session, response=previous_response), previous_scales)
        before_z = compare_to_sample(before, sample, scale_min=scale_min, scale_max=scale_max)["z"]
        previous_profile = _profile_name(before_z)
        moved = movement(own, before, current_profile=current_profile, previous_profile=previous_profile)
        report.previous_wave = previous_wave.label
        report.previous_profile = previous_profile
        report.changes = [
            Change(names.get(code, code), row["previous"], row["current"], row["change"], row["direction"])
            for code, row in moved.changes.iterrows()
            if row["direction"] != "same"
        ]
    return report


def _line(code: str, row: pd.Series, names: dict[str, str], domains: dict[str, str]) -> ScoreLine:
    return ScoreLine(
        code=code,
        name=names.get(code, code),
        domain=domains.get(code, ""),
        score=float(row["score"]),
        sample_mean=None if pd.isna(row["sample_mean"]) or row["basis"] != "sample" else float(row["sample_mean"]),
        percentile=None if pd.isna(row["percentile"]) or row["basis"] != "sample" else float(row["percentile"]),
        z=0.0 if pd.isna(row["z"]) else float(row["z"]),
    )


def _profile_name(z: pd.Series) -> str | None:
    try:
        return resemble_profile(z).name
    except ValueError:  # too few identity facets in this instrument
        return None


def _describe_profile(report: PersonalFeedback, z: pd.Series, names: dict[str, str], language: str) -> str | None:
    try:
        resemblance = resemble_profile(z)
    except ValueError:
        return None
    report.profile = resemblance.name
    report.profile_similarity = resemblance.similarity
    if resemblance.name != UNMATCHED:
        reference = REFERENCE_PROFILES[resemblance.name]
        report.profile_description = reference.description.get(language, "")
        report.profile_high = [names.get(code, code) for code in resemblance.high]
        report.profile_low = [names.get(code, code) for code in resemblance.low]
    report.runners_up = [name for name, _ in resemblance.ranking if name != resemblance.name][:2]
    return resemblance.name


def _scores(answers: dict[str, Any], scales: list[ScaleDefinition]) -> pd.Series:
    numeric = {code: value for code, value in answers.items() if isinstance(value, int)}
    frame = pd.DataFrame([numeric], dtype=float)
    scored = score(frame, scales, id_columns=[])
    return scored.iloc[0].astype(float)


def sample_scores(
    *, session: Session, study: Study, instrument: Instrument, scales: list[ScaleDefinition]
) -> pd.DataFrame:
    """Facet and scale scores of every submitted response to this instrument in the study (cached)."""
    submitted = (
        select(Response.id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(
            Wave.instrument_id == instrument.id,
            Cohort.study_id == study.id,
            col(Response.submitted_at).is_not(None),
        )
    )
    count, latest = session.exec(
        select(func.count(), func.max(Response.updated_at)).where(col(Response.id).in_(submitted))
    ).one()
    key = (str(session.get_bind().engine.url), study.id, instrument.id, instrument.checksum, count, str(latest))
    cached = _SAMPLE_CACHE.get(key)
    if cached is not None:
        return cached
    rows = session.exec(
        select(Answer.response_id, Item.code, Answer.value_number)
        .join(Item, col(Item.id) == Answer.item_id)
        .where(col(Answer.response_id).in_(submitted), col(Answer.value_number).is_not(None))
    ).all()
    long = pd.DataFrame(rows, columns=["response_id", "item", "value"])
    wide = long.pivot(index="response_id", columns="item", values="value").astype(float)
    scores = score(wide, scales, id_columns=[]) if len(wide) else pd.DataFrame(columns=[s.code for s in scales])
    if len(_SAMPLE_CACHE) > 16:
        _SAMPLE_CACHE.clear()
    _SAMPLE_CACHE[key] = scores
    return scores


def _previous_response(
    *, session: Session, response: Response, study: Study
) -> tuple[Response, Wave, list[ScaleDefinition]] | None:
    """The participant's latest earlier submitted response in the same study."""
    invitation = session.get_one(Invitation, response.invitation_id)
    row = session.exec(
        select(Response, Wave)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(
            Invitation.participant_id == invitation.participant_id,
            Cohort.study_id == study.id,
            col(Response.submitted_at).is_not(None),
            col(Response.submitted_at) < response.submitted_at,
            Response.id != response.id,
        )
        .order_by(col(Response.submitted_at).desc())
    ).first()
    if row is None:
        return None
    previous, wave = row
    instrument = session.get_one(Instrument, wave.instrument_id)
    return previous, wave, scales_from_instrument(instrument.definition)


#: the sample mean's tick: >= 3:1 against the white background (WCAG 1.4.11); the bars are the primary colour
MEAN_COLOUR = "#c05a00"


def score_chart(
    lines: list[ScoreLine], low: float, high: float, *, you: str, mean: str, language: str = "en"
) -> Markup:
    """An accessible SVG bar chart of scores on a low..high scale, with the sample mean as a tick.

    Each score's name stands above its bar, so the drawing is narrow (340 units) and its text stays at
    least 11 px on a 390 px phone. The ``<title>`` names the chart and the ``<desc>`` gives every score and
    mean in words; the page puts a table with the same numbers beside it. Colours and fonts are
    presentation attributes, so the chart looks the same on the page and in a PDF.
    """
    width, bar_width, row_height = 340, 290, 44
    height = row_height * len(lines) + 30
    span = high - low
    font = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
    key = escape(lines[0].code if lines else "empty")

    def x(value: float) -> float:
        return 4 + bar_width * (value - low) / span

    def said(line: ScoreLine) -> str:
        text = f"{line.name}: {you} {decimal(line.score, 1, language)}"
        if line.sample_mean is not None:
            text += f", {mean} {decimal(line.sample_mean, 1, language)}"
        return text

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="chart-{key}-title" aria-describedby="chart-{key}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" {font}>'
        f'<title id="chart-{key}-title">{escape(you)} / {escape(mean)}</title>'
        f'<desc id="chart-{key}-desc">{escape("; ".join(said(line) for line in lines))}</desc>'
    ]
    for step in range(int(low), int(high) + 1):
        parts.append(
            f'<line x1="{x(step):.1f}" x2="{x(step):.1f}" y1="4" y2="{height - 24}" stroke="#dde3ea" stroke-width="1"/>'
            f'<text x="{x(step):.1f}" y="{height - 8}" font-size="12" fill="#5f6b7a" text-anchor="middle">{step}</text>'
        )
    for index, line in enumerate(lines):
        y = 4 + index * row_height
        parts.append(
            f'<text x="4" y="{y + 13}" font-size="13" fill="#1b2430">{escape(shorten(line.name, 40))}</text>'
            f'<rect x="4" y="{y + 20}" width="{max(x(line.score) - 4, 1):.1f}" height="14" '
            f'rx="3" fill="#0b5d7a"><title>{escape(line.name)}: {decimal(line.score, 1, language)}</title></rect>'
            f'<text x="{min(x(line.score) + 6, width - 30):.1f}" y="{y + 32}" font-size="12" font-weight="bold" '
            f'fill="#4a5565">{decimal(line.score, 1, language)}</text>'
        )
        if line.sample_mean is not None:
            parts.append(
                f'<line x1="{x(line.sample_mean):.1f}" x2="{x(line.sample_mean):.1f}" y1="{y + 15}" y2="{y + 39}" '
                f'stroke="{MEAN_COLOUR}" stroke-width="3">'
                f"<title>{escape(mean)}: {decimal(line.sample_mean, 1, language)}</title></line>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def render_pdf(report: PersonalFeedback, *, t: dict[str, str], language: str, study: Study, wave: Wave) -> bytes:
    """The feedback as an A4 PDF (WeasyPrint), with the same texts and charts as the page."""
    html = render_template("questionnaire/feedback_pdf.html", t=t, lang=language, report=report, study=study, wave=wave)
    return render_report_pdf(html)
