"""Turning a briefing's figures into an A4 PDF (WeasyPrint): cover, contents, sections, charts, method."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path
from typing import Any, cast

import pandas as pd
from babel.numbers import format_percent
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from analysis.suppression import SuppressedTable
from studyapp.briefings.content import FUTURE, JOB_TYPES, SCALES, Figures, worth_printing
from studyapp.briefings.texts import briefing_texts, profile_text
from studyapp.core.models import Study
from studyapp.formatting import decimal
from studyapp.reports import render_report_pdf
from waves.i18n import long_date

# A Jinja environment of its own: briefings are also made by the scheduler, outside any request.
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
#: bar colours with >= 3:1 contrast against the white background (WCAG 1.4.11)
ORGANISATION_COLOUR, SAMPLE_COLOUR = "#0b5d7a", "#c05a00"


def share_bars(categories: list[str], series: dict[str, list[float | None]], *, hidden: str) -> Markup:
    """Horizontal grouped bars of shares (0..1) per category; a hidden (suppressed) share is drawn as text."""
    colours = [ORGANISATION_COLOUR, SAMPLE_COLOUR, "#009E73"]
    label_w, bar_w, group_h = 170, 360, 14 * len(series) + 14
    width, height = label_w + bar_w + 70, group_h * len(categories) + 40
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg" {_FONT} '
        f'aria-label="{escape(", ".join(series))}"><title>{escape(" / ".join(series))}</title>'
    ]
    for tick in range(0, 101, 25):
        x = label_w + bar_w * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 34}" stroke="#dde3ea"/>'
            f'<text x="{x:.1f}" y="{height - 20}" font-size="10" fill="#5f6b7a" text-anchor="middle">{tick}%</text>'
        )
    for i, category in enumerate(categories):
        y0 = i * group_h + 4
        parts.append(
            f'<text x="{label_w - 8}" y="{y0 + group_h / 2 + 2:.1f}" font-size="11" fill="#1b2430" '
            f'text-anchor="end">{escape(category)}</text>'
        )
        for j, (name, values) in enumerate(series.items()):
            y = y0 + j * 14
            value = values[i]
            if value is None:
                parts.append(
                    f'<text x="{label_w + 4}" y="{y + 10}" font-size="10" fill="#5f6b7a">{escape(hidden)}</text>'
                )
                continue
            w = max(bar_w * value, 1)
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="11" rx="2" fill="{colours[j % 3]}">'
                f"<title>{escape(name)}, {escape(category)}: {value:.0%}</title></rect>"
                f'<text x="{label_w + w + 4:.1f}" y="{y + 10}" font-size="10" fill="#4a5565">{value:.0%}</text>'
            )
    legend_y = height - 6
    x = label_w
    for j, name in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colours[j % 3]}"/>'
            f'<text x="{x + 14}" y="{legend_y}" font-size="10" fill="#1b2430">{escape(name)}</text>'
        )
        x += 14 + 7 * len(name) + 20
    parts.append("</svg>")
    return Markup("".join(parts))


def _cells(table: SuppressedTable, row: Any, columns: list[Any], hidden: str) -> list[str]:
    """A row's shown counts (the suppressed ones as ``hidden``)."""
    values = table.shown().loc[row, columns]
    return [hidden if pd.isna(value) else f"{int(value)}" for value in values]


def _shares(table: SuppressedTable, row: Any) -> list[float | None]:
    shares = table.percentages(axis=1).loc[row]
    return [None if pd.isna(v) else float(v) / 100 for v in shares]


@dataclass
class Table:
    """One printed table: an optional caption above it, the column headers and the labelled rows."""

    caption: str
    header: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass
class Section:
    """What one section prints below its heading: notes (why figures are missing), a chart, tables."""

    notes: list[str] = field(default_factory=list)
    chart: Markup | None = None
    tables: list[Table] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # sentences after the tables


def context(figures: Figures, *, study: Study, language: str, analysis_id: int) -> dict[str, Any]:
    """Everything the briefing template shows, with hidden figures already replaced.

    Every section shows the whole sample's chart and tables; an organisation's own figures stand beside them
    where :meth:`Figures.own_shown` allows, and a sentence says why where they do not.
    """
    t = briefing_texts(language)
    hidden = t["hidden"]
    org_name = figures.organisation.name if figures.organisation is not None else t["for_sample"]
    own = figures.own_shown()
    sample = figures.whole_sample
    is_org = figures.organisation is not None

    def missing(section: str) -> list[str]:
        """The sentence saying why the organisation's own table of ``section`` is not printed."""
        if not is_org or own[section]:
            return []
        key = "own_too_small" if figures.too_small else "own_left_out"
        return [t[key].format(organisation=org_name, min_cell=figures.min_cell)]

    left_out = t["sample_left_out"].format(min_cell=figures.min_cell)
    labels = {"organisation": t["organisation"], "sample": t["sample"]}
    profile_header = [*figures.profiles, t["total"]]

    # Profiles: the organisation's row (when worth printing) beside the sample's, with a chart of shares
    profiles = Section(notes=missing("profiles"))
    counts = figures.profile_counts if own["profiles"] else sample.profile_counts
    if counts is not None:
        names = [
            r for r in ("organisation", "sample") if r in counts.counts.index and (r == "sample" or own["profiles"])
        ]
        series = {labels[r]: _shares(counts, r) for r in names}
        if sample.weighted_shares is not None:
            series[t["sample_weighted"]] = sample.weighted_shares
            weighted = [
                f"{name} {format_percent(share, locale=language)}"
                for name, share in zip(figures.profiles, sample.weighted_shares, strict=True)
                if share is not None
            ]
            profiles.extra.append(t["weighted_shares"].format(shares=", ".join(weighted) or hidden))
        profiles.chart = share_bars(figures.profiles, series, hidden=hidden)
        profiles.tables.append(
            Table(
                "",
                ["", *profile_header],
                [(labels[r], [*_cells(counts, r, figures.profiles, hidden), _total(counts, r, hidden)]) for r in names],
            )
        )

    # Profiles by job type and the movement between waves: a table of the organisation's, then the sample's
    jobs = Section(notes=missing("jobs"))
    movement = Section(notes=missing("movement"))
    for who, source, shown in (("organisation", figures, own["jobs"]), ("sample", sample, True)):
        jp = source.job_profile
        if jp is None or not shown:
            continue
        if not worth_printing(jp.shown()):
            jobs.notes.append(left_out)
            if who == "sample":
                # the table's own row totals, hidden as the table hides them: the people per job type
                totals = [_total(jp, job, hidden) for job in JOB_TYPES]
                if worth_printing(pd.Series([None if v == hidden else float(v) for v in totals], dtype=float)):
                    header = ["", *(t[job] for job in JOB_TYPES)]
                    jobs.tables.append(Table(t["per_job"], header, [(t["sample"], totals)]))
            continue
        rows = [
            (t[job], [*_cells(jp, job, figures.profiles, hidden), _total(jp, job, hidden)])
            for job in JOB_TYPES
            if job in jp.counts.index
        ]
        jobs.tables.append(Table(labels[who] if is_org else "", ["", *profile_header], rows))
    for who, source, shown in (("organisation", figures, own["movement"]), ("sample", sample, True)):
        mv = source.movement
        if mv is None or not shown:
            continue
        if not worth_printing(mv.shown()):
            movement.notes.append(left_out)
            continue
        rows = [(before, _cells(mv, before, figures.profiles, hidden)) for before in figures.profiles]
        movement.tables.append(Table(labels[who] if is_org else "", [t["from_to"], *figures.profiles], rows))
    if sample.stayed_share is not None:
        movement.extra.append(t["stayed_sample"].format(share=f"{100 * sample.stayed_share:.0f}%"))

    # Identification and career: means of the organisation and the sample, then by job type
    identification = Section(notes=missing("means"))
    if not identification.notes and missing("job_means"):  # its means are shown, not those per job type
        identification.notes.append(t["own_left_out_by_job"].format(organisation=org_name, min_cell=figures.min_cell))
    scales = [(scale, t["identification_scale"] if scale == "identification" else t[scale]) for scale in SCALES]
    columns = ["organisation", "sample"] if own["means"] else ["sample"]
    identification.tables.append(
        Table(
            "",
            ["", *(labels[c] for c in columns)],
            [
                (
                    label,
                    [
                        _mean(figures.means if c == "organisation" else sample.means, scale, c, hidden, language)
                        for c in columns
                    ],
                )
                for scale, label in scales
            ],
        )
    )
    for who, source, shown in (("organisation", figures, own["job_means"]), ("sample", sample, True)):
        if not shown:
            continue
        if not worth_printing(source.job_means):
            identification.notes.append(left_out)
            continue
        identification.tables.append(
            Table(
                t["by_job_of"].format(who=labels[who] if is_org else t["sample"]),
                ["", *(t[job] for job in JOB_TYPES)],
                [
                    (label, [_mean(source.job_means, scale, job, hidden, language) for job in JOB_TYPES])
                    for scale, label in scales
                ],
            )
        )

    # Intention to stay: the organisation's row beside the sample's, with a chart
    future = Section(notes=missing("future"))
    table = figures.future if own["future"] else sample.future
    if table is not None:
        keys = list(FUTURE.values())
        names = [r for r in ("organisation", "sample") if r in table.counts.index and (r == "sample" or own["future"])]
        future.chart = share_bars([t[k] for k in keys], {labels[r]: _shares(table, r) for r in names}, hidden=hidden)
        future.tables.append(
            Table("", ["", *(t[k] for k in keys)], [(labels[r], _percents(table, r, keys, hidden)) for r in names])
        )

    return {
        "t": t,
        "lang": language,
        "study": study,
        "figures": figures,
        "org_name": org_name,
        "shown_org": is_org and not figures.too_small,
        "below_threshold": figures.too_small,
        "all_left_out": figures.nothing_own and not figures.too_small,
        "today": long_date(date.today(), language),
        "analysis_id": analysis_id,
        "profiles": figures.profiles,
        "profile_texts": [(name, *profile_text(name, language)) for name in figures.profiles],
        "sections": {
            "profiles": profiles,
            "jobs": jobs,
            "movement": movement,
            "identification": identification,
            "future": future,
        },
        "has_movement": sample.movement is not None,
    }


def _total(table: SuppressedTable, row: Any, hidden: str) -> str:
    if table.row_totals_hidden.get(row, False):
        return hidden
    return str(int(table.counts.loc[row].sum()))


def _percents(table: SuppressedTable, row: Any, columns: list[Any], hidden: str) -> list[str]:
    """A row's shown percentages (the suppressed ones as ``hidden``)."""
    values = table.percentages(axis=1).loc[row, columns]
    return [hidden if pd.isna(value) else f"{value:.0f}%" for value in values]


def _mean(frame: pd.DataFrame, row: str, column: str, hidden: str, language: str) -> str:
    if frame.empty or column not in frame.columns:
        return hidden
    value = cast(float, frame.loc[row, column])  # one cell of a frame of means
    return hidden if pd.isna(value) else decimal(float(value), 1, language)


def render_pdf(figures: Figures, *, study: Study, language: str, analysis_id: int) -> tuple[bytes, str]:
    """The briefing as PDF bytes, and its HTML (for tests and previews)."""
    values = context(figures, study=study, language=language, analysis_id=analysis_id)
    html = _TEMPLATES.get_template("briefings/briefing_pdf.html").render(**values)
    return render_report_pdf(html, extra_stylesheets=("briefing.css",)), html
