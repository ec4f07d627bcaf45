"""Texts of the company briefing (headings, what the profiles mean, suggested actions), from the catalogues.

The briefing PDFs are made by a background job, outside any request: the texts are read with the fieldwork
engine's catalogue loader (once per language and process) rather than Flask-Babel's request locale.
"""

from __future__ import annotations

import functools

from babel.numbers import format_percent

from studyapp.formatting import decimal
from waves.i18n import N_, translated

#: What marks each profile, and what an employer can do: the study's profile names stay as they are.
_PROFILE_TEXT: dict[str, tuple[str, str]] = {
    "Nerd": (
        N_(
            "Sensitive and introvert; enjoys TV and computers more than going out; values security, "
            "comfort and societal engagement over power and money; strong in research and "
            "engineering, less in management."
        ),
        N_(
            "Offer a specialist career path next to the management ladder, quiet focused work, and "
            "recognition for technical depth; link their work to its societal use."
        ),
    ),
    "Einzelgänger": (
        N_(
            "Introvert and conservative; prefers TV and computers to socialising and clubs; values "
            "security and comfort over challenge; strong in research and engineering, prefers working"
            " alone."
        ),
        N_(
            "Give clear, stable technical roles with autonomy; keep team work purposeful and small; "
            "watch their identification with the profession, which is lowest in this profile."
        ),
    ),
    "Traditionalist": (
        N_(
            "Agreeable and modest; active in clubs and volunteering; values family, tradition, "
            "healthy living and security; strong in organising, less in research and engineering."
        ),
        N_(
            "Value their organising role; offer predictable hours and a good work-life balance; role "
            "models from the field help them see themselves as engineers."
        ),
    ),
    "Innovator": (
        N_(
            "Extravert, friendly and open-minded; engaged with society; seeks challenge and societal "
            "welfare; strong in international work, managing, research and team work."
        ),
        N_(
            "Give challenging, varied projects with societal impact and room to lead and innovate; "
            "the smallest profile, and easily lost to other sectors when the work climate is routine."
        ),
    ),
    "All-rounder": (
        N_(
            "Open-minded, extravert and conscientious; sociable and engaged; values challenge, "
            "welfare, health and the environment; strong in management, team work, international work"
            " and research."
        ),
        N_(
            "Offer broad roles that combine technique with people and society, and contact with the "
            "field; they identify strongly with the profession and make good role models."
        ),
    ),
    "Status Seeker": (
        N_(
            "Extravert and self-assured; values power, money and status; strong in managing and "
            "leading, less in research."
        ),
        N_(
            "Make career steps, pay and responsibility visible; they most often intend to stay in the"
            " technical sector when the sector offers them a route to leadership."
        ),
    ),
}


def profile_text(name: str, language: str) -> tuple[str, str]:
    """What marks the profile ``name`` and what an employer can do, in ``language`` (empty when unknown)."""
    found = _PROFILE_TEXT.get(name)
    if found is None:
        return ("", "")
    return translated(language, found[0]), translated(language, found[1])


@functools.cache
def briefing_texts(language: str) -> dict[str, str]:
    """The briefing's texts in ``language`` ("nl" or "en"), keyed by the template's names."""
    percent = functools.partial(format_percent, locale=language if language in ("nl", "en") else "en")
    findings = translated(
        language,
        "What Mind the Gap! found (2016, 863 alumni): {technical} worked in a technical job in the "
        "technical sector, {non_technical} in a non-technical job in it. Identification with the "
        "profession was highest among All-rounders and Innovators and lowest among Einzelgängers and "
        "Traditionalists. Most intended to stay in the technical sector, from {status_seekers} of "
        "Status Seekers and {nerds} of Nerds and Einzelgängers to {others} of Traditionalists, "
        "All-rounders and Innovators; people in non-technical jobs were {ratio} times as likely to "
        "intend to leave, so career paths that keep technique in reach matter most for them.",
    ).format(
        technical=percent(0.37),
        non_technical=percent(0.31),
        status_seekers=percent(0.98),
        nerds=percent(0.89),
        others=f"83-{percent(0.84)}",
        ratio=decimal(5.9, 1, language),
    )
    return {
        "title": translated(
            language,
            "Briefing",
        ),
        "subtitle": translated(
            language,
            "Professional identity of your technical staff",
        ),
        "for_sample": translated(
            language,
            "All participating organisations",
        ),
        "contents": translated(
            language,
            "Contents",
        ),
        "wave": translated(
            language,
            "Wave {wave}",
        ),
        "generated": translated(
            language,
            "Generated on {date}",
        ),
        "summary": translated(
            language,
            "Summary",
        ),
        "summary_text": translated(
            language,
            "{n} people of {organisation} completed wave {wave} of {study}, beside {n_sample} participants in all.",
        ),
        "summary_sample": translated(
            language,
            "{n_sample} participants completed wave {wave} of {study}.",
        ),
        "below_threshold": translated(
            language,
            "Fewer than {min_cell} people of {organisation} took part in this wave, so figures for "
            "your organisation cannot be shown without the risk of recognising individuals. Every "
            "section shows the figures of all participants instead.",
        ),
        "all_left_out": translated(
            language,
            "The {n} people of {organisation} are spread over groups of fewer than {min_cell} people "
            "each, so none of your organisation's tables can be shown without the risk of recognising"
            " individuals. Every section shows the figures of all participants instead.",
        ),
        "own_too_small": translated(
            language,
            "Figures for {organisation} itself are not shown here: fewer than {min_cell} of its "
            "people took part in this wave. The figures are those of all participants.",
        ),
        "own_left_out": translated(
            language,
            "The table for {organisation} itself is left out: nearly every figure in it rests on "
            "fewer than {min_cell} people and would be hidden.",
        ),
        "own_left_out_by_job": translated(
            language,
            "The table for {organisation} itself by job type is left out: nearly every figure in it "
            "rests on fewer than {min_cell} people and would be hidden.",
        ),
        "sample_left_out": translated(
            language,
            "This table is left out: nearly every figure in it rests on fewer than {min_cell} people "
            "and would be hidden.",
        ),
        "by_job_of": translated(
            language,
            "{who}, by job type",
        ),
        "per_job": translated(
            language,
            "Number of participants per job type",
        ),
        "sample_weighted": translated(
            language,
            "All participants, weighted for dropout",
        ),
        "weighted_shares": translated(
            language,
            "Weighted for dropout, as if those who stopped answering had kept on (as far as who they were "
            "tells): {shares}.",
        ),
        "stayed_sample": translated(
            language,
            "{share} of all participants who took part in both waves kept the same profile.",
        ),
        "profiles": translated(
            language,
            "Profiles",
        ),
        "profiles_text": translated(
            language,
            "Each participant is assigned the professional profile their answers resemble most "
            "(latent profile analysis of 30 facets of interests, values, competences, goals and "
            "personality).",
        ),
        "by_job": translated(
            language,
            "Profiles by job type",
        ),
        "movement": translated(
            language,
            "Movement since wave {wave}",
        ),
        "stayed": translated(
            language,
            "{share} of your people who took part in both waves kept the same profile.",
        ),
        "identification": translated(
            language,
            "Identification and career",
        ),
        "future": translated(
            language,
            "Intention to stay in the technical sector",
        ),
        "meanings": translated(
            language,
            "What the profiles mean, and what you can do",
        ),
        "method": translated(
            language,
            "Method",
        ),
        "method_text": translated(
            language,
            "Profiles come from a latent profile and latent transition analysis of all participants "
            "(analysis {analysis}). To protect the privacy of participants, every figure based on "
            "fewer than {min_cell} people is replaced by –, and where needed a second figure too, so "
            "that a hidden number cannot be worked out from totals or from the briefing of another "
            "wave. No names, e-mail addresses or individual answers are ever shared with employers. A"
            " table is left out, with a sentence in its place, when fewer than a quarter of its cells"
            " (or fewer than two) could be shown, or only zeros: nearly everything in it would be "
            "hidden. Zeros are shown, also beside hidden figures: a group of nobody says nothing "
            "about any person.",
        ),
        "organisation": translated(
            language,
            "Your organisation",
        ),
        "sample": translated(
            language,
            "All participants",
        ),
        "technical": translated(
            language,
            "Technical job",
        ),
        "non_technical": translated(
            language,
            "Non-technical job",
        ),
        "other": translated(
            language,
            "Other job",
        ),
        "inside": translated(
            language,
            "Inside",
        ),
        "outside": translated(
            language,
            "Outside",
        ),
        "unsure": translated(
            language,
            "Don't know",
        ),
        "total": translated(
            language,
            "Total",
        ),
        "identification_scale": translated(
            language,
            "Identification with the profession",
        ),
        "career_clarity": translated(
            language,
            "Career clarity",
        ),
        "career_commitment": translated(
            language,
            "Career commitment",
        ),
        "career_exploration": translated(
            language,
            "Career exploration",
        ),
        "scale_note": translated(
            language,
            "Means on a scale of 1 to 7.",
        ),
        "from_to": translated(
            language,
            "From \\ to",
        ),
        "page": translated(
            language,
            "Page",
        ),
        "findings": findings,
        "hidden": "\u2013",
    }
