"""Uploaded tables (CSV, XLSX, SPSS) stop at the row limit instead of reading the whole file first."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlmodel import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from studyapp.core import tabular
from studyapp.core.models import Study
from studyapp.core.tabular import MAX_ROWS, TableError, read_table
from tests.factories import login, make_cohort, make_study, make_user

BIG = 400_000


@pytest.fixture(scope="session")
def big_xlsx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A participant list of 400,000 rows, written in openpyxl's streaming (write-only) mode."""
    path = tmp_path_factory.mktemp("tables") / "400000.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["email", "name", "cohort"])
    for n in range(BIG):
        sheet.append([f"p{n}@example.org", f"Person {n}", "Final-year students"])
    workbook.save(path)
    return path.read_bytes()


@pytest.fixture
def study(session: Session) -> Study:
    study = make_study(session)
    make_cohort(session, study)
    return study


def _upload(client: FlaskClient, study: Study, content: bytes, filename: str) -> str:
    # encoded here in memory: the test client spools a large body to a temporary file it never closes
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), filename)})
    response = client.post(
        f"/studies/{study.id}/participants/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_400000_row_xlsx_upload_is_refused_within_3_seconds(
    client: FlaskClient, session: Session, study: Study, big_xlsx: bytes
) -> None:
    make_user(session)
    login(client)
    started = time.perf_counter()
    page = _upload(client, study, big_xlsx, "everyone.xlsx")
    elapsed = time.perf_counter() - started
    print(f"\n400,000-row XLSX ({len(big_xlsx) / 1e6:.1f} MB) refused in {elapsed:.2f} s")
    assert "more than 100000 rows; split the file" in page
    assert elapsed < 3, f"took {elapsed:.1f} s"


def test_csv_reading_stops_at_the_row_limit() -> None:
    """What lies beyond the limit is never read: here a broken quote after row 100,001.

    (The upload's limit; the command line reads without one since issue 17: tests/test_scale_web.py.)
    """
    lines = ["email,name"] + [f"p{n}@example.org,Person {n}" for n in range(MAX_ROWS + 1)]
    content = ("\n".join([*lines, 'broken@example.org,"never closed', *lines[1:1000]]) + "\n").encode()
    with pytest.raises(TableError, match=f"line {MAX_ROWS + 2}: more than {MAX_ROWS} rows; split the file"):
        read_table("too-many.csv", content)


def test_xlsx_rows_far_below_the_data_cost_no_time() -> None:
    """A cell at the bottom of the sheet (row 1,048,576) would have the reader step through a million empty rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["email", "name"])
    sheet.append(["ana@example.org", "Ana"])
    sheet.cell(row=1_048_576, column=1, value=" ")
    buffer = io.BytesIO()
    workbook.save(buffer)
    started = time.perf_counter()
    table = read_table("list.xlsx", buffer.getvalue())
    assert time.perf_counter() - started < 3
    assert [row.cells for row in table.rows] == [{"email": "ana@example.org", "name": "Ana"}]


def test_rows_beyond_excels_last_row_are_refused() -> None:
    sheet = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    sheet += b'<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>'
    sheet += b'<row r="99999999"><c r="A99999999" t="inlineStr"><is><t>x@example.org</t></is></c></row>'
    sheet += b"</sheetData></worksheet>"
    with pytest.raises(TableError, match="more than 1048576 lines"):
        read_table("crafted.xlsx", _xlsx_with_sheet(sheet))


def _xlsx_with_sheet(sheet_xml: bytes) -> bytes:
    """A minimal valid workbook whose only sheet is ``sheet_xml``."""
    buffer, out = io.BytesIO(), io.BytesIO()
    Workbook().save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename)
            target.writestr(item, content)
    return out.getvalue()


def test_an_spss_file_with_too_many_cases_is_refused(tmp_path: Path) -> None:
    import pandas as pd
    import pyreadstat

    from studyapp.participants.response_import import read_response_file

    path = tmp_path / "big.sav"
    pyreadstat.write_sav(pd.DataFrame({"id": range(MAX_ROWS + 5), "q1": 1}), path)
    with pytest.raises(TableError, match=f"more than {MAX_ROWS} rows"):
        read_response_file("big.sav", path.read_bytes())


def _not_reached(*args, **kwargs):
    raise AssertionError("openpyxl was asked to read a sheet the row count had to refuse")


def _small_xlsx(rows: int) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["email", "name"])
    for n in range(rows):
        sheet.append([f"p{n}@example.org", f"Person {n}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("chunk", [1 << 20, 7])  # 7 bytes: row elements cut across chunks
@pytest.mark.parametrize(("rows", "refused"), [(50, False), (51, True)])
def test_the_quick_row_count_refuses_exactly_above_the_limit(monkeypatch, chunk: int, rows: int, refused: bool):
    monkeypatch.setattr(tabular, "MAX_ROWS", 50)
    monkeypatch.setattr(tabular, "_CHUNK_BYTES", chunk)
    if refused:
        monkeypatch.setattr("openpyxl.load_workbook", _not_reached)  # refused by the count alone
        with pytest.raises(TableError, match="line 52: more than 50 rows"):
            read_table("list.xlsx", _small_xlsx(rows))
    else:
        assert len(read_table("list.xlsx", _small_xlsx(rows)).rows) == 50


def test_the_quick_row_count_knows_prefixed_row_elements(monkeypatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ROWS", 1)
    ns = b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rows = b"".join(
        b'<x:row r="%d"><x:c r="A%d" t="inlineStr"><x:is><x:t>v%d</x:t></x:is></x:c></x:row>' % (n, n, n)
        for n in range(1, 4)
    )
    sheet = b"<x:worksheet " + ns + b"><x:sheetData>" + rows + b"</x:sheetData></x:worksheet>"
    content = _xlsx_with_sheet(sheet)
    monkeypatch.setattr("openpyxl.load_workbook", _not_reached)
    with pytest.raises(TableError, match="line 3: more than 1 rows"):
        read_table("prefixed.xlsx", content)


@pytest.mark.parametrize("max_rows", [50, None])  # None: the command line, which reads every row
def test_a_sheet_of_too_much_xml_is_refused_with_or_without_a_row_limit(monkeypatch, max_rows: int | None) -> None:
    monkeypatch.setattr(tabular, "MAX_SHEET_BYTES", 2_000)
    monkeypatch.setattr("openpyxl.load_workbook", _not_reached)  # refused before openpyxl expands it
    with pytest.raises(TableError, match="MB of XML"):
        read_table("wide.xlsx", _small_xlsx(40), max_rows=max_rows)
