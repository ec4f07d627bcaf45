"""Printed reports keep every table row whole on one page (issue 16: the wave report PDF split a row, its
label on one page and its values on the next)."""

from __future__ import annotations

import re
import subprocess

import pytest

from studyapp.reports import render_report_pdf

ROWS = 120


def _pages(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


@pytest.mark.parametrize("stylesheets", [(), ("briefing.css",)], ids=["wave report", "briefing"])
def test_a_table_row_is_never_split_across_pages(tmp_path, stylesheets):
    """Rows whose label wraps over three lines, enough of them for several pages: each row's three label
    lines and its value are on one page, and the header is repeated on every page the table runs over."""
    rows = "".join(
        f"<tr><td>Label {i}<br>second line {i}<br>third line {i}</td><td>value-{i}</td></tr>" for i in range(ROWS)
    )
    html = (
        "<html><body class='report'><div class='wave-report'><table class='table'>"
        f"<thead><tr><th>Profile</th><th>Share</th></tr></thead><tbody>{rows}</tbody></table></div></body></html>"
    )
    pages = _pages(render_report_pdf(html, extra_stylesheets=stylesheets), tmp_path)
    assert len([page for page in pages if page.strip()]) > 2
    split = []
    for i in range(ROWS):
        where = {
            part: [p for p, page in enumerate(pages) if re.search(rf"\b{part} {i}\b", page)]
            for part in ("Label", "second line", "third line")
        }
        where["value"] = [p for p, page in enumerate(pages) if re.search(rf"\bvalue-{i}\b", page)]
        if len({tuple(found) for found in where.values()}) != 1:
            split.append((i, where))
    assert split == []
    assert all("Profile" in page for page in pages if "value-" in page)
