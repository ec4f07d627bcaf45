"""Anonymous linkage of waves by a self-generated identification code: hand-made cases and planted truth."""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter

import pytest

from studyapp.participants.linkage import (
    ROW_COLUMNS,
    SGIC_ELEMENTS,
    Ambiguity,
    CodeRecord,
    Link,
    link_many_waves,
    link_waves,
    normalise_code,
    normalise_element,
    score_links,
    simulate_code_waves,
)

ELEMENT = {element.code: element for element in SGIC_ELEMENTS}
CODES = [element.code for element in SGIC_ELEMENTS]


def rec(record_id: str, code: str) -> CodeRecord:
    """A record from a compact code "M J 12 0 A X" ("-" for a missing element)."""
    return CodeRecord(record_id, tuple(None if part == "-" else part for part in code.split()))


# --- the elements -------------------------------------------------------------------------------------


def test_six_elements_with_dutch_and_english_questions() -> None:
    assert len(SGIC_ELEMENTS) == 6
    assert len(set(CODES)) == 6
    for element in SGIC_ELEMENTS:
        assert element.question["nl"].strip() and element.question["en"].strip()
        assert element.kind in ("letter", "number")
        if element.kind == "number":
            assert element.min is not None and element.max is not None and element.min < element.max
    assert (ELEMENT["birth_day"].min, ELEMENT["birth_day"].max) == (1, 31)
    assert (ELEMENT["older_siblings"].min, ELEMENT["older_siblings"].max) == (0, 9)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("m", "M"),
        ("  Émile ", "E"),
        ("é", "E"),
        ("ç", "C"),
        ("Ĳsselstein", "I"),
        ("Øystein", "O"),
        ("'s-Hertogenbosch", "S"),
        ("x", "X"),
        (None, ""),
        ("   ", ""),
    ],
)
def test_normalise_letters(raw: str | None, expected: str) -> None:
    assert normalise_element(ELEMENT["mother_initial"], raw) == expected


@pytest.mark.parametrize("raw", ["3", "-", "?abc", "Ω", 7, "'"])
def test_letters_refuse_non_letters_readably(raw: object) -> None:
    with pytest.raises(ValueError, match="mother_initial") as caught:
        normalise_element(ELEMENT["mother_initial"], raw)
    assert "letter" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "raw", "expected"),
    [
        ("birth_day", "07", "7"),
        ("birth_day", 31, "31"),
        ("birth_day", " 1 ", "1"),
        ("older_siblings", 0, "0"),
    ],
)
def test_normalise_numbers(code: str, raw: object, expected: str) -> None:
    assert normalise_element(ELEMENT[code], raw) == expected


@pytest.mark.parametrize(
    ("code", "raw", "message"),
    [
        ("birth_day", 0, "between 1 and 31"),
        ("birth_day", "32", "between 1 and 31"),
        ("older_siblings", 10, "between 0 and 9"),
        ("older_siblings", -1, "between 0 and 9"),
        ("birth_day", "twelve", "whole number"),
        ("birth_day", 2.5, "whole number"),
        ("birth_day", True, "whole number"),
        ("birth_day", "1.0", "whole number"),
    ],
)
def test_numbers_refuse_out_of_range_and_non_numbers(code: str, raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_element(ELEMENT[code], raw)


def test_normalise_code_keeps_missing_answers_missing() -> None:
    assert normalise_code(["maria", "Jan", "09", 2, "Den Haag", None]) == ("M", "J", "9", "2", "D", "")
    with pytest.raises(ValueError, match="expected 6 answers"):
        normalise_code(["M", "J"])


# --- linking two waves ----------------------------------------------------------------------------------


def test_exact_links() -> None:
    earlier = [rec("e1", "M J 12 0 A X"), rec("e2", "A H 3 1 R P")]
    later = [rec("l1", "A H 3 1 R P"), rec("l2", "M J 12 0 A X"), rec("l3", "E W 28 2 U X")]
    result = link_waves(earlier, later)
    assert result.links == [Link("e1", "l2", 0, None), Link("e2", "l1", 0, None)]
    assert result.exact_count == 2 and result.fuzzy_count == 0
    assert result.ambiguous == []
    assert result.unmatched_earlier == [] and result.unmatched_later == ["l3"]


def test_one_difference_link_names_the_differing_element() -> None:
    earlier = [rec("e1", "M J 12 0 A X"), rec("e2", "A H 3 1 R P")]
    later = [rec("l1", "M J 13 0 A X"), rec("l2", "T K 3 1 R P")]
    result = link_waves(earlier, later)
    assert result.links == [Link("e1", "l1", 1, "birth_day")]
    assert result.exact_count == 0 and result.fuzzy_count == 1
    assert result.unmatched_earlier == ["e2"] and result.unmatched_later == ["l2"]  # two differences
    exact_only = link_waves(earlier, later, allow_one_difference=False)
    assert exact_only.links == []
    assert exact_only.unmatched_earlier == ["e1", "e2"] and exact_only.unmatched_later == ["l1", "l2"]


def test_two_equally_close_earlier_records_are_reported_not_linked() -> None:
    earlier = [rec("e1", "M J 12 0 A X"), rec("e2", "M J 12 1 A X"), rec("e3", "C P 5 0 G X")]
    later = [rec("l1", "M J 12 0 A P"), rec("l2", "C P 5 0 G X"), rec("l3", "M J 12 2 A X")]
    # l1 differs from e1 only in the second name; l3 differs from both e1 and e2 in the siblings.
    result = link_waves(earlier, later)
    assert result.links == [Link("e3", "l2", 0, None)]
    by_record = {(item.side, item.record_id): item for item in result.ambiguous}
    assert set(by_record) == {("earlier", "e1"), ("earlier", "e2"), ("later", "l1"), ("later", "l3")}
    assert by_record["later", "l3"].candidate_ids == ("e1", "e2")
    assert by_record["earlier", "e1"].candidate_ids == ("l1", "l3")
    assert by_record["earlier", "e2"].candidate_ids == ("l3",)  # its only candidate has another one
    assert by_record["later", "l1"].candidate_ids == ("e1",)
    assert all(item.stage == "one_difference" for item in result.ambiguous)
    assert result.unmatched_earlier == [] and result.unmatched_later == []


def test_a_unique_candidate_on_both_sides_is_required() -> None:
    # e2's only candidate is l2, but l2 also has e1 as candidate: nobody is linked.
    earlier = [rec("e1", "M J 12 0 A X"), rec("e2", "M J 12 0 B X")]
    later = [rec("l2", "M J 12 0 C X")]
    result = link_waves(earlier, later)
    assert result.links == []
    assert [(item.record_id, item.candidate_ids) for item in result.ambiguous] == [
        ("e1", ("l2",)),
        ("e2", ("l2",)),
        ("l2", ("e1", "e2")),
    ]


def test_duplicate_exact_codes_are_ambiguous_and_not_matched_further() -> None:
    earlier = [rec("e1", "J J 1 0 A X"), rec("e2", "J J 1 0 A X"), rec("e3", "K L 9 3 Z X")]
    later = [rec("l1", "J J 1 0 A X"), rec("l2", "J J 1 0 A Y")]
    result = link_waves(earlier, later)
    assert result.links == []
    assert result.ambiguous == [
        Ambiguity("e1", "earlier", ("l1",), "exact"),
        Ambiguity("e2", "earlier", ("l1",), "exact"),
        Ambiguity("l1", "later", ("e1", "e2"), "exact"),
    ]
    # l2 is one element away from e1 and e2, but they are already reported: l2 stays unmatched.
    assert result.unmatched_earlier == ["e3"] and result.unmatched_later == ["l2"]


def test_duplicates_within_one_wave_only_are_not_an_exact_ambiguity() -> None:
    earlier = [rec("e1", "J J 1 0 A X"), rec("e2", "J J 1 0 A X")]
    later = [rec("l1", "J J 1 0 A Y"), rec("l2", "P R 20 1 H X")]
    result = link_waves(earlier, later)
    assert result.links == []
    assert [(item.record_id, item.stage) for item in result.ambiguous] == [
        ("e1", "one_difference"),
        ("e2", "one_difference"),
        ("l1", "one_difference"),
    ]
    assert result.unmatched_later == ["l2"]


def test_missing_elements() -> None:
    earlier = [
        rec("e1", "M J 12 - A X"),  # one missing: may link with one difference
        rec("e2", "A H 3 1 - -"),  # two missing: never links
        rec("e3", "E W 28 - U X"),  # missing in both waves, rest equal: one difference
        rec("e4", "T K 7 2 - -"),  # two missing in both waves, rest equal: still never links
    ]
    later = [
        rec("l1", "M J 12 0 A X"),
        rec("l2", "A H 3 1 R P"),
        rec("l3", "E W 28 - U X"),
        rec("l4", "T K 7 2 - -"),
    ]
    result = link_waves(earlier, later)
    assert result.links == [Link("e1", "l1", 1, "older_siblings"), Link("e3", "l3", 1, "older_siblings")]
    assert result.unmatched_earlier == ["e2", "e4"] and result.unmatched_later == ["l2", "l4"]
    exact_only = link_waves(earlier, later, allow_one_difference=False)
    assert exact_only.links == []  # a missing element never matches exactly
    empty_string = link_waves([CodeRecord("e1", ("M", "J", "12", "", "A", "X"))], later[:1])
    assert empty_string.links == [Link("e1", "l1", 1, "older_siblings")]


def test_one_difference_does_not_reuse_an_exactly_linked_record() -> None:
    earlier = [rec("e1", "M J 12 0 A X"), rec("e2", "M J 12 0 A P")]
    later = [rec("l1", "M J 12 0 A X")]
    result = link_waves(earlier, later)
    assert result.links == [Link("e1", "l1", 0, None)]
    assert result.unmatched_earlier == ["e2"]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="more than once"):
        link_waves([rec("e1", "M J 12 0 A X"), rec("e1", "A H 3 1 R P")], [])
    with pytest.raises(ValueError, match="expected 6"):
        link_waves([rec("e1", "M J 12 0 A")], [])


def test_rows_for_a_report() -> None:
    earlier = [rec("e1", "M J 12 0 A X"), rec("e2", "M J 13 0 A X"), rec("e3", "C P 5 0 G X")]
    later = [
        rec("l1", "M J 12 0 A X"),
        rec("l2", "C P 5 0 G Y"),
        rec("l3", "M J 13 0 A P"),
        rec("l4", "Z Z 1 9 Z Z"),
    ]
    result = link_waves(earlier, later)
    rows = result.to_rows()
    assert all(tuple(row) == ROW_COLUMNS for row in rows)
    assert Counter(row["status"] for row in rows) == {
        "linked_exact": 1,
        "linked_one_difference": 2,
        "unmatched": 1,
    }
    fuzzy = [row for row in rows if row["status"] == "linked_one_difference"]
    assert {(row["earlier_id"], row["later_id"], row["differing_element"]) for row in fuzzy} == {
        ("e2", "l3", "second_name_initial"),
        ("e3", "l2", "second_name_initial"),
    }
    ambiguous = link_waves([rec("e1", "M J 12 0 A X"), rec("e2", "M J 12 1 A X")], [rec("l1", "M J 12 2 A X")])
    row = next(row for row in ambiguous.to_rows() if row["later_id"] == "l1")
    assert row == dict.fromkeys(ROW_COLUMNS) | {
        "status": "ambiguous",
        "later_id": "l1",
        "candidate_ids": "e1; e2",
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ROW_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    assert buffer.getvalue().count("\n") == len(rows) + 1
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(rows)
    assert list(frame.columns) == list(ROW_COLUMNS) and len(frame) == 4


def test_link_many_waves_links_consecutive_pairs() -> None:
    waves = [[rec("a1", "M J 12 0 A X")], [rec("b1", "M J 12 0 A X")], [rec("c1", "M J 11 0 A X")]]
    results = link_many_waves(waves)
    assert [result.links for result in results] == [
        [Link("a1", "b1", 0, None)],
        [Link("b1", "c1", 1, "birth_day")],
    ]
    assert link_many_waves(waves[:1]) == []


# --- the simulator ---------------------------------------------------------------------------------------


def test_simulated_waves_have_valid_codes_and_anonymous_ids() -> None:
    waves, truth = simulate_code_waves(3000, 3, attrition=0.2, seed=5)
    assert len(waves) == 3 and len(waves[0]) == 3000
    for wave in waves[1:]:
        assert 0.75 * 3000 < len(wave) < 0.85 * 3000
    for number, wave in enumerate(waves, start=1):
        ids = [record.record_id for record in wave]
        assert len(set(ids)) == len(ids) and all(str(rid).startswith(f"w{number}-") for rid in ids)
        for record in wave:
            assert normalise_code(record.elements) == record.elements
    # Ids are handed out in a random order: their numbers say nothing about the person.
    persons = [truth[record.record_id] for record in waves[0]]
    assert persons != sorted(persons)
    numbers = [int(str(record.record_id).split("-")[1]) for record in waves[0]]
    assert abs(_correlation(numbers, persons)) < 0.1
    assert set(truth) == {record.record_id for wave in waves for record in wave}
    again, _ = simulate_code_waves(3000, 3, attrition=0.2, seed=5)
    assert again == waves
    other, _ = simulate_code_waves(3000, 3, attrition=0.2, seed=6)
    assert other != waves


def test_realistic_code_distributions() -> None:
    waves, _ = simulate_code_waves(5000, 1, seed=1)
    columns = list(zip(*(record.elements for record in waves[0]), strict=True))
    mothers = Counter(columns[CODES.index("mother_initial")])
    assert mothers.most_common(1)[0][0] in "MAJ" and len(mothers) >= 15
    days = Counter(int(day) for day in columns[CODES.index("birth_day")])
    assert set(days) == set(range(1, 32)) and days[31] < sum(days[d] for d in range(1, 29)) / 28
    siblings = Counter(int(count) for count in columns[CODES.index("older_siblings")])
    assert siblings[0] > siblings[1] > siblings[2] > siblings[3]
    assert 0.3 < Counter(columns[CODES.index("second_name_initial")])["X"] / 5000 < 0.5


def test_without_errors_every_code_is_stable() -> None:
    waves, truth = simulate_code_waves(1000, 2, error_rates=[0.0] * 6, seed=2)
    codes = [{truth[record.record_id]: record.elements for record in wave} for wave in waves]
    assert codes[0] == codes[1]
    score = score_links(link_waves(*waves), truth)
    assert score["exact_share"] == 1.0 and score["precision"] == 1.0
    assert score["recall"] > 0.99  # only people who share their whole code with someone else are lost


def test_simulator_refuses_bad_rates() -> None:
    with pytest.raises(ValueError, match="unknown elements"):
        simulate_code_waves(10, 2, error_rates={"eye_colour": 0.1})
    with pytest.raises(ValueError, match="needs 6 values"):
        simulate_code_waves(10, 2, error_rates=[0.1])


# --- planted truth ---------------------------------------------------------------------------------------


def _correlation(xs: list[int], ys: list[int]) -> float:
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    return cov / (var_x * var_y) ** 0.5


def test_linkage_against_planted_truth() -> None:
    waves, truth = simulate_code_waves(2000, 2, seed=11)
    earlier, later = waves
    # The truth, computed here from the records themselves.
    earlier_code = {truth[record.record_id]: record.elements for record in earlier}
    later_code = {truth[record.record_id]: record.elements for record in later}
    people_in_both = earlier_code.keys() & later_code.keys()
    assert len(people_in_both) == 2000
    exact_share = sum(earlier_code[p] == later_code[p] for p in people_in_both) / len(people_in_both)
    assert 0.68 <= exact_share <= 0.80

    result = link_waves(earlier, later)
    linked_people = [(truth[link.earlier_id], truth[link.later_id]) for link in result.links]
    correct = sum(a == b for a, b in linked_people)
    precision = correct / len(linked_people)
    recall = correct / len(people_in_both)
    assert precision >= 0.97
    assert recall >= 0.85
    assert len({link.earlier_id for link in result.links}) == len(result.links)  # one-to-one
    assert len({link.later_id for link in result.links}) == len(result.links)
    # Every record ends up exactly once: linked, ambiguous or unmatched.
    earlier_fate = (
        [link.earlier_id for link in result.links]
        + [item.record_id for item in result.ambiguous if item.side == "earlier"]
        + result.unmatched_earlier
    )
    assert sorted(earlier_fate) == sorted(record.record_id for record in earlier)

    score = score_links(result, truth)
    assert score["precision"] == pytest.approx(precision)
    assert score["recall"] == pytest.approx(recall)
    assert score["exact_share"] == pytest.approx(exact_share)
    assert score["n_true_pairs"] == 2000 and score["n_links"] == len(result.links)

    exact_only = link_waves(earlier, later, allow_one_difference=False)
    exact_correct = sum(truth[link.earlier_id] == truth[link.later_id] for link in exact_only.links)
    exact_recall = exact_correct / len(people_in_both)
    assert exact_only.fuzzy_count == 0
    assert exact_recall <= exact_share + 0.001
    assert recall - exact_recall > 0.1  # the second pass recovers most one-element slips
    assert score_links(exact_only, truth)["recall"] == pytest.approx(exact_recall)


def test_attrition_and_many_waves_against_planted_truth() -> None:
    waves, truth = simulate_code_waves(2000, 3, attrition=0.15, seed=3)
    for result, (earlier, later) in zip(link_many_waves(waves), itertools.pairwise(waves), strict=True):
        in_earlier = {truth[record.record_id] for record in earlier}
        in_both = in_earlier & {truth[record.record_id] for record in later}
        correct = sum(truth[link.earlier_id] == truth[link.later_id] for link in result.links)
        score = score_links(result, truth)
        assert score["n_true_pairs"] == len(in_both) < len(in_earlier)
        assert score["recall"] == pytest.approx(correct / len(in_both)) and score["recall"] >= 0.85
        assert score["precision"] == pytest.approx(correct / len(result.links)) and score["precision"] >= 0.97
