"""Turning a briefing's figures into an A4 PDF (WeasyPrint): cover, contents, sections, charts, method."""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path
from typing import Any, cast

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from analysis.suppression import SuppressedTable
from studyapp.briefings.content import FUTURE, JOB_TYPES, SCALES, Figures
from studyapp.briefings.texts import PROFILE_TEXT, TEXTS
from studyapp.core.models import Study
from studyapp.formatting import decimal
from studyapp.reports import render_report_pdf

# A Jinja environment of its own: briefings are also made by the scheduler, outside any request.
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
ORGANISATION_COLOUR, SAMPLE_COLOUR = "#0b5d7a", "#f2a541"


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


def context(figures: Figures, *, study: Study, language: str, analysis_id: int) -> dict[str, Any]:
    """Everything the briefing template shows, with hidden figures already replaced."""
    t = TEXTS[language]
    hidden = t["hidden"]
    org_name = figures.organisation.name if figures.organisation is not None else t["for_sample"]
    shown_org = figures.organisation is not None and figures.profile_counts is not None
    result: dict[str, Any] = {
        "t": t,
        "lang": language,
        "study": study,
        "figures": figures,
        "org_name": org_name,
        "shown_org": shown_org,
        "below_threshold": figures.organisation is not None and figures.profile_counts is None,
        "today": date.today().isoformat(),
        "analysis_id": analysis_id,
        "hidden": hidden,
        "profiles": figures.profiles,
        "profile_texts": [(name, *PROFILE_TEXT.get(name, {}).get(language, ("", ""))) for name in figures.profiles],
        "scales": [(scale, t["identification_scale"] if scale == "identification" else t[scale]) for scale in SCALES],
        "job_types": [(job, t[job]) for job in JOB_TYPES],
        "future_labels": [(key, t[key]) for key in FUTURE.values()],
    }
    table = figures.profile_counts
    if table is not None:
        rows = [r for r in ("organisation", "sample") if r in table.counts.index]
        result["profile_rows"] = [
            (t[r], _cells(table, r, figures.profiles, hidden), _total(table, r, hidden)) for r in rows
        ]
        result["profile_chart"] = share_bars(figures.profiles, {t[r]: _shares(table, r) for r in rows}, hidden=hidden)
    if shown_org and figures.job_profile is not None:
        jp = figures.job_profile
        result["job_rows"] = [
            (t[job], _cells(jp, job, figures.profiles, hidden), _total(jp, job, hidden))
            for job in JOB_TYPES
            if job in jp.counts.index
        ]
    if shown_org and figures.movement is not None:
        mv = figures.movement
        result["movement_rows"] = [
            (before, _cells(mv, before, figures.profiles, hidden)) for before in figures.profiles
        ]
    if figures.future is not None:
        rows = [r for r in ("organisation", "sample") if r in figures.future.counts.index]
        result["future_rows"] = [(t[r], _percents(figures.future, r, list(FUTURE.values()), hidden)) for r in rows]
    result["mean_rows"] = [
        (
            label,
            [_mean(figures.means, scale, column, hidden, language) for column in figures.means.columns],
            [_mean(figures.job_means, scale, job, hidden, language) for job in JOB_TYPES] if shown_org else [],
        )
        for scale, label in result["scales"]
    ]
    result["mean_columns"] = [t[c] for c in figures.means.columns]
    return result


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
