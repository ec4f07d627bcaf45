"""Rendering report HTML to PDF with the shared report styles (feedback, wave reports, briefings)."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


def render_report_pdf(html: str, *, extra_stylesheets: tuple[str, ...] = ()) -> bytes:
    """A4 PDF of ``html`` styled by ``static/css/report.css`` (plus ``extra_stylesheets`` from that folder)."""
    from weasyprint import CSS, HTML

    sheets = [CSS(filename=str(STATIC / "css" / name)) for name in ("report.css", *extra_stylesheets)]
    return HTML(string=html, base_url=str(STATIC)).write_pdf(stylesheets=sheets)
