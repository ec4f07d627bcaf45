"""Reading uploaded tables (CSV or XLSX) into rows that remember their line in the file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import PurePath

MAX_ROWS = 100_000


class TableError(ValueError):
    """A file that cannot be read as a table at all; ``line`` says where reading failed."""

    def __init__(self, message: str, line: int = 1) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


@dataclass(frozen=True)
class RowProblem:
    """Why one line of an imported file cannot be used."""

    line: int
    message: str


class ImportRejected(ValueError):
    """An import with problems: nothing was stored. ``problems`` lists every bad line."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"line {p.line}: {p.message}" for p in problems[:50])
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"The file was rejected; nothing was imported.\n{lines}{more}")


@dataclass(frozen=True)
class Row:
    """One data row: its line number in the file and its cells by (normalised) column name."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Table:
    """A read table: the column names as normalised, and the non-empty rows."""

    columns: list[str]
    rows: list[Row]


def normalise_column(name: str) -> str:
    """Column names compared without case, surrounding space, or spaces versus underscores."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def read_table(filename: str, content: bytes) -> Table:
    """Read a ``.csv`` (comma, semicolon or tab; UTF-8) or ``.xlsx`` upload.

    Raises :class:`TableError` for an unreadable file, duplicate or missing column names, or more
    than ``MAX_ROWS`` rows. Empty rows are skipped; line numbers count from the header (line 1).
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsx":
        raw_rows = _xlsx_rows(content)
    elif suffix in (".csv", ".txt", ""):
        raw_rows = _csv_rows(content)
    else:
        raise TableError(f"unsupported file type {suffix!r}: upload a .csv or .xlsx file")
    if not raw_rows:
        raise TableError("the file is empty")
    header_line, header = raw_rows[0]
    columns = [normalise_column(c) for c in header]
    if any(not c for c in columns):
        raise TableError("every column needs a name in the first row", header_line)
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise TableError(f"column {duplicates[0]!r} appears more than once", header_line)
    rows = []
    for line, values in raw_rows[1:]:
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(columns) and any(v.strip() for v in values[len(columns) :]):
            raise TableError(f"{len(values)} cells but only {len(columns)} column names", line)
        cells = {column: (values[i].strip() if i < len(values) else "") for i, column in enumerate(columns)}
        rows.append(Row(line=line, cells=cells))
        if len(rows) > MAX_ROWS:
            raise TableError(f"more than {MAX_ROWS} rows; split the file", line)
    return Table(columns=columns, rows=rows)


def _csv_rows(content: bytes) -> list[tuple[int, list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise TableError("the file is not UTF-8 text; save it as 'CSV UTF-8'", line) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        for values in reader:
            rows.append((reader.line_num, values))
    except csv.Error as error:
        raise TableError(f"cannot read the CSV: {error}", reader.line_num) from None
    # line_num is the line where a record ends; a record starts after the previous one ended
    starts, previous_end = [], 0
    for end, values in rows:
        starts.append((previous_end + 1, values))
        previous_end = end
    return starts


def _xlsx_rows(content: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise TableError(f"cannot read the Excel file: {error}") from None
    sheet = workbook.worksheets[0]
    rows = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        rows.append((number, [_cell_text(v) for v in values]))
    workbook.close()
    return rows


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
