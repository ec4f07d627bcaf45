"""Reading uploaded tables (CSV or XLSX) into rows that remember their line in the file.

Both formats are read as a stream that stops at the row limit: nothing after row ``MAX_ROWS`` (or
the caller's ``max_rows``) is parsed; ``max_rows=None`` reads every row (the command line, which
enrols in batches and holds no web worker). For XLSX a quick count of the first sheet's row
elements (decompressed in chunks, before openpyxl parses a cell or loads the shared strings)
refuses an oversized sheet at once; openpyxl then reads in its read-only streaming mode. A
400,000-row sheet is refused in a fraction of a second instead of holding a worker for half a
minute while every row is read.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from xml.etree import ElementTree

MAX_ROWS = 100_000
#: ``read_table``'s default: the module's ``MAX_ROWS`` as it is when the table is read.
MODULE_LIMIT = -1
#: Lines read at most, empty ones included: Excel's last row. A cell far below the data would
#: otherwise have the reader step through every empty row up to it.
MAX_LINES = 1_048_576
#: Decompressed XML of a sheet read at most (a 20 MB upload can expand a thousandfold).
MAX_SHEET_BYTES = 1 << 30
_CHUNK_BYTES = 1 << 20


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


def read_table(
    filename: str, content: bytes, *, max_rows: int | None = MODULE_LIMIT, advice: str = "split the file"
) -> Table:
    """Read a ``.csv`` (comma, semicolon or tab; UTF-8) or ``.xlsx`` upload.

    Raises :class:`TableError` for an unreadable file, duplicate or missing column names, or more
    than ``max_rows`` rows (default ``MAX_ROWS``; ``None``: no limit), whose message ends with
    ``advice``. Empty rows are skipped; line numbers count from the header (line 1).
    """
    limit = MAX_ROWS if max_rows == MODULE_LIMIT else max_rows
    refusal = _Refusal(limit, advice)
    suffix = PurePath(filename).suffix.lower()
    if suffix not in (".xlsx", ".csv", ".txt", ""):
        raise TableError(f"unsupported file type {suffix!r}: upload a .csv or .xlsx file")
    # what the bytes are, not the name, decides how to read them (an .xlsx renamed .csv is still Excel)
    raw_rows = _xlsx_rows(content, refusal) if sniff_file_type(content) == "xlsx" else _csv_rows(content)
    try:
        return _table(raw_rows, refusal)
    finally:
        raw_rows.close()  # an XLSX stream closes its archive


#: the first bytes of file types people upload by mistake, and what to tell them
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")


def sniff_file_type(content: bytes) -> str:
    """What an upload is by its content: ``"xlsx"`` (an Excel workbook) or ``"csv"`` (anything else,
    read as text).

    Raises :class:`TableError` naming the file type for what is neither: an old Excel ``.xls`` file,
    an OpenDocument or other zip archive, a PDF.
    """
    if content.startswith(_OLE2):
        raise TableError("this is an old Excel (.xls) file: save it as .xlsx or as 'CSV UTF-8'")
    if content.startswith(b"%PDF"):
        raise TableError("this is a PDF file: upload the list as .csv or .xlsx")
    if content.startswith(_ZIP):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
                mimetype = archive.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
        except (zipfile.BadZipFile, OSError, ValueError):
            raise TableError("this is a damaged zip archive (an .xlsx file is one): save the file again") from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "opendocument" in mimetype:
            raise TableError("this is an OpenDocument spreadsheet (.ods): save it as .xlsx or as 'CSV UTF-8'")
        raise TableError("this is a zip archive, not a spreadsheet: upload a .csv or .xlsx file")
    return "csv"


@dataclass(frozen=True)
class _Refusal:
    """The row limit of one reading (``None``: none) and what its message advises."""

    limit: int | None
    advice: str

    def exceeded(self, rows: int) -> bool:
        return self.limit is not None and rows > self.limit

    def error(self, line: int) -> TableError:
        return TableError(f"more than {self.limit} rows; {self.advice}", line)


def _table(raw_rows: Iterator[tuple[int, list[str]]], refusal: _Refusal) -> Table:
    first = next(raw_rows, None)
    if first is None:
        raise TableError("the file is empty")
    header_line, header = first
    columns = [normalise_column(c) for c in header]
    if any(not c for c in columns):
        raise TableError("every column needs a name in the first row", header_line)
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise TableError(f"column {duplicates[0]!r} appears more than once", header_line)
    rows = []
    for line, values in raw_rows:  # a stream: nothing beyond the limit is read
        if line > MAX_LINES:
            raise TableError(f"more than {MAX_LINES} lines, empty ones included; delete the empty rows", line)
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(columns) and any(v.strip() for v in values[len(columns) :]):
            raise TableError(f"{len(values)} cells but only {len(columns)} column names", line)
        cells = {column: (values[i].strip() if i < len(values) else "") for i, column in enumerate(columns)}
        rows.append(Row(line=line, cells=cells))
        if refusal.exceeded(len(rows)):
            raise refusal.error(line)
    return Table(columns=columns, rows=rows)


def _csv_rows(content: bytes) -> Generator[tuple[int, list[str]], None, None]:
    """Each record with the line it starts on, read one at a time."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise TableError("the file is not UTF-8 text; save it as 'CSV UTF-8'", line) from None
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    # line_num is the line where a record ends; a record starts after the previous one ended
    previous_end = 0
    try:
        for values in reader:
            yield previous_end + 1, values
            previous_end = reader.line_num
    except csv.Error as error:
        raise TableError(f"cannot read the CSV: {error}", reader.line_num) from None


def _xlsx_rows(content: bytes, refusal: _Refusal) -> Generator[tuple[int, list[str]], None, None]:
    """The first sheet's rows, numbered as in Excel, streamed by openpyxl in read-only mode."""
    from openpyxl import load_workbook

    _refuse_oversized_first_sheet(content, refusal)  # its XML size is limited even when its rows are not
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise TableError(f"cannot read the Excel file: {error}") from None
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if any(v is not None and v != "" for v in values):
                yield number, [_cell_text(v) for v in values]
            else:
                yield number, []  # an empty row (openpyxl fills gaps with these): nothing to convert
    finally:
        workbook.close()


_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_DOCUMENT_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


def _refuse_oversized_first_sheet(content: bytes, refusal: _Refusal) -> None:
    """Count the first sheet's ``<row>`` elements in its XML and refuse more than the limit allows, and a
    sheet of more than ``MAX_SHEET_BYTES`` of XML (a small upload can expand a thousandfold) in any case.

    Each row element is a row the sheet holds (Excel writes none for rows that are wholly empty), so
    more than the limit + 1 of them (the header) cannot become an acceptable table. The count
    reads the decompressed XML in chunks and stops as soon as the limit is passed. Files this cannot
    make sense of are left to openpyxl, whose streamed reading stops at the limit as well.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            path = _first_sheet_path(archive)
            if path is not None:
                _count_rows(archive, path, refusal)
    except TableError:
        raise
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, EOFError, ValueError):
        return  # openpyxl says what is wrong with the file


def _count_rows(archive: zipfile.ZipFile, path: str, refusal: _Refusal) -> None:
    count, read, tail = 0, 0, b""
    with archive.open(path) as sheet:
        while chunk := sheet.read(_CHUNK_BYTES):
            read += len(chunk)
            if read > MAX_SHEET_BYTES:
                raise TableError(f"the first sheet holds more than {MAX_SHEET_BYTES >> 20} MB of XML; split the file")
            data = tail + chunk
            # row elements wholly inside the previous chunk's tail were counted with that chunk
            count += len(_ROW_START.findall(data)) - len(_ROW_START.findall(tail))
            if refusal.exceeded(count - 1) and refusal.limit is not None:  # the header is a row element
                raise refusal.error(refusal.limit + 2)
            tail = data[-64:]


def _first_sheet_path(archive: zipfile.ZipFile) -> str | None:
    """The first worksheet's part in the archive, as Office finds it (package -> workbook -> sheet)."""
    workbook = _relationship_target(archive, "_rels/.rels", "", "/officeDocument")
    if workbook is None:
        return None
    folder, name = posixpath.split(workbook)
    root = ElementTree.fromstring(archive.read(workbook))
    sheet = next((e for e in root.iter() if e.tag.endswith("}sheet") or e.tag == "sheet"), None)
    relationship = sheet.get(_DOCUMENT_REL) if sheet is not None else None
    if relationship is None:
        return None
    return _relationship_target(archive, posixpath.join(folder, "_rels", name + ".rels"), folder, relationship)


def _relationship_target(archive: zipfile.ZipFile, rels: str, folder: str, wanted: str) -> str | None:
    """The target of the relationship whose id is ``wanted`` (or whose type ends with it)."""
    for relationship in ElementTree.fromstring(archive.read(rels)).iter(_RELATIONSHIPS):
        if relationship.get("Id") == wanted or relationship.get("Type", "").endswith(wanted):
            target = relationship.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            return path if path in archive.namelist() else None
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
