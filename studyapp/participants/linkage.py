"""Anonymous linkage of questionnaire waves by a self-generated identification code (SGIC).

A cohort that keeps no contact data can still follow people over time: every wave asks the same few
stable questions (letters of the parents' first names, the day of birth, ...) and the answers form a
code. Codes are linked between two waves in two passes:

1. **exact**: a complete code that occurs exactly once in each wave is a link. A code that occurs more
   than once in either wave (and in both waves) is *ambiguous*: its records are reported, not linked.
2. **one difference** (optional): among the records still unlinked and not ambiguous, a pair whose
   codes differ in exactly one element is a link only when each is the other's *only* such candidate;
   all other records with candidates are reported as ambiguous, with their candidate ids, so that the
   researcher decides instead of the software guessing.

A missing element (``None`` or ``""``) never matches, so a code with one missing element can only be
linked in the second pass (that element counting as the difference), and one with two or more missing
elements is never linked.

Everything here is a pure function of its arguments (standard library and numpy only), including a
simulator with planted truth (:func:`simulate_code_waves`) and a scorer (:func:`score_links`) to
measure precision and recall of the links.
"""

from __future__ import annotations

import itertools
import math
import numbers
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

RecordId = str | int
Code = tuple[str | None, ...]

# --------------------------------------------------------------------------------------------------
# The code's elements
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeElement:
    """One question of the self-generated code.

    ``kind`` is ``"letter"`` (one letter A-Z) or ``"number"`` (an integer from ``min`` to ``max``).
    """

    code: str
    question: dict[str, str] = field(hash=False)
    kind: Literal["letter", "number"]
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("letter", "number"):
            raise ValueError(f"element {self.code!r}: kind must be 'letter' or 'number', not {self.kind!r}")
        if self.kind == "number" and (self.min is None or self.max is None or self.min > self.max):
            raise ValueError(f"element {self.code!r}: a number element needs min <= max")
        if not {"nl", "en"} <= set(self.question):
            raise ValueError(f"element {self.code!r}: the question needs an 'nl' and an 'en' text")


#: The six elements asked in every wave, in code order. All are stable over a lifetime, answerable
#: without looking anything up, and not identifying on their own. Month (or year) of birth is left out
#: because together with the day it is a date of birth, which is identifying within a cohort.
SGIC_ELEMENTS: tuple[CodeElement, ...] = (
    CodeElement(
        code="mother_initial",
        question={
            "nl": "Wat is de eerste letter van de roepnaam van je moeder (de naam waarmee ze meestal "
            "wordt aangesproken)? Weet je het niet, vul dan een X in.",
            "en": "What is the first letter of your mother's first name (the name she is usually "
            "called by)? If you do not know, enter an X.",
        },
        kind="letter",
    ),
    CodeElement(
        code="father_initial",
        question={
            "nl": "Wat is de eerste letter van de roepnaam van je vader (de naam waarmee hij meestal "
            "wordt aangesproken)? Weet je het niet, vul dan een X in.",
            "en": "What is the first letter of your father's first name (the name he is usually "
            "called by)? If you do not know, enter an X.",
        },
        kind="letter",
    ),
    CodeElement(
        code="birth_day",
        question={
            "nl": "Op welke dag van de maand ben je geboren (1 tot en met 31)?",
            "en": "On which day of the month were you born (1 to 31)?",
        },
        kind="number",
        min=1,
        max=31,
    ),
    CodeElement(
        code="older_siblings",
        question={
            "nl": "Hoeveel oudere broers en zussen heb je (ook halfbroers en halfzussen)? "
            "Heb je er meer dan 9, vul dan 9 in.",
            "en": "How many older brothers and sisters do you have (half-brothers and half-sisters "
            "included)? If more than 9, enter 9.",
        },
        kind="number",
        min=0,
        max=9,
    ),
    CodeElement(
        code="birthplace_initial",
        question={
            "nl": "Wat is de eerste letter van de plaats (stad of dorp) waar je bent geboren? "
            "Gebruik de Nederlandse naam, zonder lidwoord: voor Den Haag de D, voor 's-Hertogenbosch "
            "de H.",
            "en": "What is the first letter of the town or city where you were born? Use the local "
            "name without an article: D for Den Haag (The Hague), H for 's-Hertogenbosch.",
        },
        kind="letter",
    ),
    CodeElement(
        code="second_name_initial",
        question={
            "nl": "Wat is de eerste letter van je tweede voornaam (zoals in je paspoort)? "
            "Heb je maar één voornaam, vul dan een X in.",
            "en": "What is the first letter of your second given name (as in your passport)? "
            "If you have only one given name, enter an X.",
        },
        kind="letter",
    ),
)

_ELEMENT_BY_CODE = {element.code: element for element in SGIC_ELEMENTS}

# Letters that Unicode decomposition does not reduce to A-Z.
_LETTER_FOLD = str.maketrans({"Ø": "O", "Æ": "A", "Œ": "O", "Ł": "L", "Đ": "D", "Þ": "T", "Ð": "D"})
_LEADING_QUOTES = "'\"‘’‚‛“”`´"


def normalise_element(element: CodeElement, raw: Any) -> str:
    """One answer in its canonical form.

    Parameters
    ----------
    element
        The element answered.
    raw
        The answer as given. Letters: the first letter of a string (leading quotes skipped, so
        ``"'s-Gravenhage"`` gives ``"S"``), uppercased, accents stripped (``"é"`` -> ``"E"``).
        Numbers: an integer (or a string of digits) within ``element.min``..``element.max``.

    Returns
    -------
    str
        One letter ``"A"``-``"Z"`` or the number's decimal digits; ``""`` for no answer (``None`` or
        blank), which linkage treats as a missing element.

    Raises
    ------
    ValueError
        An answer that is not a letter, or not a whole number in range, with a readable message.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ""
    if element.kind == "letter":
        if not isinstance(raw, str):
            raise ValueError(f"{element.code}: expected a letter, got {raw!r}")
        text = raw.strip().lstrip(_LEADING_QUOTES).lstrip()
        if not text:
            raise ValueError(f"{element.code}: expected a letter, got {raw!r}")
        decomposed = unicodedata.normalize("NFKD", text[0])
        base = "".join(char for char in decomposed if not unicodedata.combining(char))
        letter = base.upper().translate(_LETTER_FOLD)[:1]
        if not ("A" <= letter <= "Z"):
            raise ValueError(f"{element.code}: {raw!r} does not start with a letter A-Z")
        return letter
    assert element.min is not None and element.max is not None
    value: int
    if isinstance(raw, bool):
        raise ValueError(f"{element.code}: expected a whole number, got {raw!r}")
    if isinstance(raw, numbers.Integral) or (isinstance(raw, float) and raw.is_integer()):
        value = int(raw)
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        value = int(raw.strip())
    else:
        raise ValueError(f"{element.code}: expected a whole number, got {raw!r}")
    if not element.min <= value <= element.max:
        raise ValueError(f"{element.code}: {value} is not between {element.min} and {element.max}")
    return str(value)


def normalise_code(raw_answers: Sequence[Any], elements: Sequence[CodeElement] = SGIC_ELEMENTS) -> Code:
    """All answers of one respondent in canonical form, missing ones ``""``; see :func:`normalise_element`."""
    if len(raw_answers) != len(elements):
        raise ValueError(f"expected {len(elements)} answers, got {len(raw_answers)}")
    return tuple(normalise_element(element, raw) for element, raw in zip(elements, raw_answers, strict=True))


# --------------------------------------------------------------------------------------------------
# Linkage
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeRecord:
    """One questionnaire response of a wave: its id and its (normalised) code elements."""

    record_id: RecordId
    elements: tuple[str | None, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.elements, tuple):
            object.__setattr__(self, "elements", tuple(self.elements))


@dataclass(frozen=True)
class Link:
    """Two records taken to be the same person; ``differing_element`` names the element that differs."""

    earlier_id: RecordId
    later_id: RecordId
    differences: int
    differing_element: str | None = None


@dataclass(frozen=True)
class Ambiguity:
    """A record left unlinked because it has several candidates (or shares its candidate).

    ``stage`` is ``"exact"`` (a code occurring more than once) or ``"one_difference"``.
    """

    record_id: RecordId
    side: Literal["earlier", "later"]
    candidate_ids: tuple[RecordId, ...]
    stage: Literal["exact", "one_difference"] = "exact"


ROW_COLUMNS = ("status", "earlier_id", "later_id", "differences", "differing_element", "candidate_ids")


@dataclass
class LinkageResult:
    """The outcome of linking two waves: every record is linked, ambiguous or unmatched."""

    links: list[Link] = field(default_factory=list)
    ambiguous: list[Ambiguity] = field(default_factory=list)
    unmatched_earlier: list[RecordId] = field(default_factory=list)
    unmatched_later: list[RecordId] = field(default_factory=list)
    #: The codes as compared (missing elements as ``None``); kept for scoring, never in reports.
    earlier_codes: dict[RecordId, Code] = field(default_factory=dict, repr=False, compare=False)
    later_codes: dict[RecordId, Code] = field(default_factory=dict, repr=False, compare=False)

    @property
    def exact_count(self) -> int:
        """Number of links with identical codes."""
        return sum(1 for link in self.links if link.differences == 0)

    @property
    def fuzzy_count(self) -> int:
        """Number of links whose codes differ in one element."""
        return sum(1 for link in self.links if link.differences > 0)

    def ids(self, side: Literal["earlier", "later"]) -> set[RecordId]:
        """Every record id of one wave, whatever happened to it."""
        if side == "earlier":
            ids = {link.earlier_id for link in self.links} | set(self.unmatched_earlier)
        else:
            ids = {link.later_id for link in self.links} | set(self.unmatched_later)
        return ids | {item.record_id for item in self.ambiguous if item.side == side}

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per link, ambiguous record and unmatched record, all with the keys of ``ROW_COLUMNS``.

        ``status`` is ``linked_exact``, ``linked_one_difference``, ``ambiguous`` or ``unmatched``; an
        ambiguous or unmatched record fills only the id column of its own wave, and ``candidate_ids``
        is a ``"; "``-separated string (empty when there are none), so the rows go straight into
        ``pandas.DataFrame`` or ``csv.DictWriter``.
        """
        rows: list[dict[str, Any]] = []
        for link in self.links:
            status = "linked_exact" if link.differences == 0 else "linked_one_difference"
            rows.append(_row(status, link.earlier_id, link.later_id, link.differences, link.differing_element))
        for item in self.ambiguous:
            earlier_id, later_id = (item.record_id, None) if item.side == "earlier" else (None, item.record_id)
            candidates = "; ".join(str(candidate) for candidate in item.candidate_ids)
            rows.append(_row("ambiguous", earlier_id, later_id, candidate_ids=candidates))
        rows.extend(_row("unmatched", record_id, None) for record_id in self.unmatched_earlier)
        rows.extend(_row("unmatched", None, record_id) for record_id in self.unmatched_later)
        return rows


def _row(
    status: str,
    earlier_id: RecordId | None,
    later_id: RecordId | None,
    differences: int | None = None,
    differing_element: str | None = None,
    candidate_ids: str = "",
) -> dict[str, Any]:
    values = (status, earlier_id, later_id, differences, differing_element, candidate_ids)
    return dict(zip(ROW_COLUMNS, values, strict=True))


def _codes(records: Iterable[CodeRecord], side: str, width: int) -> dict[RecordId, Code]:
    codes: dict[RecordId, Code] = {}
    for record in records:
        if len(record.elements) != width:
            raise ValueError(
                f"{side} record {record.record_id!r} has {len(record.elements)} elements, expected {width}"
            )
        if record.record_id in codes:
            raise ValueError(f"{side} record id {record.record_id!r} occurs more than once")
        codes[record.record_id] = tuple(None if value is None or value == "" else value for value in record.elements)
    return codes


def _masked_keys(code: Code) -> list[tuple[int, Code]]:
    """The (position, code without that position) keys under which a code can meet a one-off neighbour."""
    missing = [position for position, value in enumerate(code) if value is None]
    if len(missing) > 1:
        return []
    positions = missing or range(len(code))
    return [(position, code[:position] + code[position + 1 :]) for position in positions]


def link_waves(
    earlier: Sequence[CodeRecord],
    later: Sequence[CodeRecord],
    *,
    allow_one_difference: bool = True,
    elements: Sequence[CodeElement] = SGIC_ELEMENTS,
) -> LinkageResult:
    """Link the records of two waves by their codes (exact first, then one differing element).

    Parameters
    ----------
    earlier, later
        The records of the two waves; ids must be unique within a wave and every code must have
        ``len(elements)`` elements (``None`` or ``""`` for a missing one).
    allow_one_difference
        Run the second pass (pairs differing in exactly one element, linked only when mutually unique).
    elements
        The element definitions, used to name the differing element of a link.

    Returns
    -------
    LinkageResult
        Links (exact ones first, each pass in the order of ``earlier``), ambiguous records with their
        candidates, and the unmatched ids of each wave in input order.
    """
    width = len(elements)
    earlier_codes = _codes(earlier, "earlier", width)
    later_codes = _codes(later, "later", width)
    result = LinkageResult(earlier_codes=earlier_codes, later_codes=later_codes)
    settled_earlier: set[RecordId] = set()
    settled_later: set[RecordId] = set()

    # Pass 1: identical complete codes.
    earlier_by_code: dict[Code, list[RecordId]] = defaultdict(list)
    later_by_code: dict[Code, list[RecordId]] = defaultdict(list)
    for codes, by_code in ((earlier_codes, earlier_by_code), (later_codes, later_by_code)):
        for record_id, code in codes.items():
            if None not in code:
                by_code[code].append(record_id)
    for code, earlier_ids in earlier_by_code.items():
        later_ids = later_by_code.get(code)
        if not later_ids:
            continue
        settled_earlier.update(earlier_ids)
        settled_later.update(later_ids)
        if len(earlier_ids) == 1 and len(later_ids) == 1:
            result.links.append(Link(earlier_ids[0], later_ids[0], 0, None))
            continue
        result.ambiguous.extend(Ambiguity(rid, "earlier", tuple(later_ids), "exact") for rid in earlier_ids)
        result.ambiguous.extend(Ambiguity(rid, "later", tuple(earlier_ids), "exact") for rid in later_ids)

    # Pass 2: one differing element, found through one index per masked position (O(n * k)).
    if allow_one_difference:
        index: dict[tuple[int, Code], list[RecordId]] = defaultdict(list)
        for record_id, code in earlier_codes.items():
            if record_id not in settled_earlier:
                for key in _masked_keys(code):
                    index[key].append(record_id)
        candidates_of_earlier: dict[RecordId, dict[RecordId, int]] = defaultdict(dict)
        candidates_of_later: dict[RecordId, dict[RecordId, int]] = defaultdict(dict)
        for later_id, code in later_codes.items():
            if later_id in settled_later:
                continue
            for key in _masked_keys(code):
                for earlier_id in index.get(key, ()):
                    candidates_of_earlier[earlier_id][later_id] = key[0]
                    candidates_of_later[later_id][earlier_id] = key[0]
        ordered_earlier = [rid for rid in earlier_codes if rid in candidates_of_earlier]
        ordered_later = [rid for rid in later_codes if rid in candidates_of_later]
        for earlier_id in ordered_earlier:
            candidates = candidates_of_earlier[earlier_id]
            if len(candidates) != 1:
                continue
            ((later_id, position),) = candidates.items()
            if len(candidates_of_later[later_id]) == 1:
                result.links.append(Link(earlier_id, later_id, 1, elements[position].code))
                settled_earlier.add(earlier_id)
                settled_later.add(later_id)
        sides: tuple[tuple[Literal["earlier", "later"], list[RecordId], dict, set[RecordId]], ...] = (
            ("earlier", ordered_earlier, candidates_of_earlier, settled_earlier),
            ("later", ordered_later, candidates_of_later, settled_later),
        )
        for side, ordered, candidates_of, settled in sides:
            for record_id in ordered:
                if record_id not in settled:
                    settled.add(record_id)
                    ids = tuple(candidates_of[record_id])
                    result.ambiguous.append(Ambiguity(record_id, side, ids, "one_difference"))

    result.unmatched_earlier = [rid for rid in earlier_codes if rid not in settled_earlier]
    result.unmatched_later = [rid for rid in later_codes if rid not in settled_later]
    return result


def link_many_waves(
    waves: Sequence[Sequence[CodeRecord]],
    *,
    allow_one_difference: bool = True,
    elements: Sequence[CodeElement] = SGIC_ELEMENTS,
) -> list[LinkageResult]:
    """Link each wave to the next: wave 1 to 2, 2 to 3, ... (``len(waves) - 1`` results).

    A person who skips a wave is not linked across the gap.
    """
    return [
        link_waves(earlier, later, allow_one_difference=allow_one_difference, elements=elements)
        for earlier, later in itertools.pairwise(waves)
    ]


# --------------------------------------------------------------------------------------------------
# Simulation with planted truth
# --------------------------------------------------------------------------------------------------


def _weights(table: Mapping[str, float], floor: float = 0.0) -> tuple[list[str], np.ndarray]:
    values = list(table)
    weights = np.array([table[value] + floor for value in values], dtype=float)
    return values, weights / weights.sum()


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Approximate initials of the call names of Dutch parents born 1930-1975 (Johanna, Maria, Anna,
# Elisabeth, Cornelia, ...; Jan, Johannes, Hendrik, Willem, Petrus, Cornelis, Gerrit, ...), per 100.
_MOTHER_INITIALS = {
    "M": 14, "A": 10, "J": 9, "E": 7, "C": 6, "H": 6, "W": 5, "G": 5, "R": 4, "L": 4, "T": 4, "I": 4,
    "P": 3, "K": 3, "S": 3, "B": 3, "N": 3, "D": 2, "Y": 2, "F": 1, "O": 0.5, "V": 0.5, "Z": 0.2,
    "U": 0.1, "Q": 0.05, "X": 0.1,
}  # fmt: skip
_FATHER_INITIALS = {
    "J": 15, "H": 8, "W": 7, "P": 7, "G": 6, "R": 6, "A": 6, "C": 5, "T": 5, "M": 5, "K": 4, "D": 3,
    "B": 3, "F": 3, "E": 2, "L": 2, "S": 2, "N": 2, "I": 0.5, "O": 0.5, "V": 0.5, "Y": 0.3, "U": 0.1,
    "Z": 0.1, "Q": 0.05, "X": 0.3,
}  # fmt: skip
# Birth places: weighted by births (Amsterdam, Almere, Arnhem, ...; Den Haag, Delft, Dordrecht, ...;
# Haarlem, Hilversum, ...), plus some mass for every letter (foreign-born, villages).
_TOWN_INITIALS = {
    "A": 14, "H": 10, "D": 9, "R": 8, "E": 6, "S": 6, "G": 5, "Z": 5, "B": 5, "U": 4, "L": 4, "W": 4,
    "N": 3, "T": 3, "M": 3, "V": 3, "O": 3, "K": 2, "P": 2, "C": 1, "I": 0.5, "J": 0.3, "Y": 0.2,
    "F": 0.3, "Q": 0.05, "X": 0.05,
}  # fmt: skip
_OLDER_SIBLINGS = [42, 32, 14, 6, 3, 1.5, 0.7, 0.4, 0.2, 0.2]
# Day d of the month exists in this many months (29 February in a quarter of the years).
_DAY_WEIGHTS = [12.0] * 28 + [11.25, 11.0, 7.0]
_SHARE_WITH_SECOND_NAME = 0.6

#: Probability, per wave and per element, that an answer differs from the person's usual answer. Two
#: waves then disagree on an element about twice as often (4-13%), and with the person-level
#: heterogeneity below about 72% of the people give identical codes in two waves and about 89% codes
#: that differ in at most one element: the figures reported for SGICs over about a month (70-75%
#: identical, up to about 88% within one element).
DEFAULT_ERROR_RATES: dict[str, float] = {
    "mother_initial": 0.022,
    "father_initial": 0.026,
    "birth_day": 0.036,
    "older_siblings": 0.058,
    "birthplace_initial": 0.044,
    "second_name_initial": 0.065,
}
#: Coefficient of variation of a person's proneness to answer inconsistently (gamma distributed, mean 1):
#: careless respondents make several errors at once, which is why "one difference" does not recover
#: everyone.
DEFAULT_HETEROGENEITY = 1.6

_QWERTY = ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM")


def _keyboard_neighbours() -> dict[str, str]:
    neighbours: dict[str, str] = {}
    for row_index, row in enumerate(_QWERTY):
        for column, letter in enumerate(row):
            near = {row[c] for c in (column - 1, column + 1) if 0 <= c < len(row)}
            # The row above is shifted left by half a key, the row below right.
            for other, columns in (
                (row_index - 1, (column, column + 1)),
                (row_index + 1, (column - 1, column)),
            ):
                if 0 <= other < len(_QWERTY):
                    near.update(_QWERTY[other][c] for c in columns if 0 <= c < len(_QWERTY[other]))
            neighbours[letter] = "".join(sorted(near))
    return neighbours


_NEIGHBOURS = _keyboard_neighbours()


def _other_letter(rng: np.random.Generator, true: str, letters: list[str], probs: np.ndarray) -> str:
    """A different letter drawn from a distribution (the true one excluded)."""
    mask = np.array([letter != true for letter in letters])
    p = probs * mask
    return str(letters[rng.choice(len(letters), p=p / p.sum())])


def _wrong_answer(
    rng: np.random.Generator,
    element: str,
    true: str,
    person_code: Code,
    letter_tables: dict[str, tuple[list[str], np.ndarray]],
) -> str:
    """A plausible wrong answer to one element (never the true one)."""
    u = rng.random()
    if element == "birth_day":
        day = int(true)
        if u < 0.65:
            options = [d for d in (day - 1, day + 1) if 1 <= d <= 31]
        elif u < 0.8:
            options = [d for d in (day - 2, day + 2) if 1 <= d <= 31]
        elif u < 0.9:  # transposed or mistyped digit: 12 <-> 21, 3 -> 13, 17 -> 7 or 27
            swapped = int(str(day)[::-1]) if day >= 10 else 0
            options = [d for d in (swapped, day + 10, day - 10) if 1 <= d <= 31 and d != day]
        else:
            options = [d for d in range(1, 32) if d != day]
        return str(options[rng.integers(len(options))])
    if element == "older_siblings":
        count = int(true)
        step = 1 if u < 0.8 else 2  # half-, step- or deceased siblings counted differently
        options = [c for c in (count - step, count + step) if 0 <= c <= 9] or [count + 1]
        return str(options[rng.integers(len(options))])
    letters, probs = letter_tables[element]
    if u < 0.35:  # typo: a neighbouring key
        near = _NEIGHBOURS[true]
        return near[rng.integers(len(near))]
    if element in ("mother_initial", "father_initial") and u < 0.5:
        other = person_code[1] if element == "mother_initial" else person_code[0]
        if other is not None and other != true:
            return other  # answered for the other parent
    if element == "second_name_initial" and u < 0.7 and true != "X":
        return "X"  # forgot or did not count the second given name
    return _other_letter(rng, true, letters, probs)


def simulate_code_waves(
    n_people: int,
    n_waves: int,
    *,
    error_rates: Mapping[str, float] | Sequence[float] | None = None,
    attrition: float = 0.0,
    seed: int = 0,
    heterogeneity: float = DEFAULT_HETEROGENEITY,
    missing_rate: float = 0.0,
) -> tuple[list[list[CodeRecord]], dict[RecordId, int]]:
    """Simulated waves of SGIC answers with planted truth.

    Parameters
    ----------
    n_people, n_waves
        Cohort size and number of waves.
    error_rates
        Per-element probability, per wave, of an answer other than the person's usual one: a mapping
        by element code (missing codes take :data:`DEFAULT_ERROR_RATES`) or six numbers in code order.
        A wrong answer is plausible: a neighbouring day, one sibling more or less, a neighbouring key,
        the other parent's initial, "X" for a forgotten second name, or another common letter.
    attrition
        Share of the people absent from each wave after the first (independently per wave, so people
        may return).
    seed
        Seed of the random generator; equal arguments give equal waves.
    heterogeneity
        Coefficient of variation of each person's error proneness (0: every person has the same rates).
    missing_rate
        Per-element probability of no answer (``""``).

    Returns
    -------
    tuple
        The waves (lists of :class:`CodeRecord` in random order, ids ``"w{wave}-{n}"`` revealing nothing
        about the person) and a dict mapping each record id to its person (0 .. n_people - 1).
    """
    if n_people < 0 or n_waves < 1:
        raise ValueError("n_people must be >= 0 and n_waves >= 1")
    if not 0.0 <= attrition < 1.0 or not 0.0 <= missing_rate <= 1.0 or heterogeneity < 0:
        raise ValueError("attrition must be in [0, 1), missing_rate in [0, 1] and heterogeneity >= 0")
    codes = [element.code for element in SGIC_ELEMENTS]
    rates = dict(DEFAULT_ERROR_RATES)
    if isinstance(error_rates, Mapping):
        unknown = set(error_rates) - set(codes)
        if unknown:
            raise ValueError(f"unknown elements in error_rates: {sorted(unknown)}")
        rates.update(error_rates)
    elif error_rates is not None:
        if len(error_rates) != len(codes):
            raise ValueError(f"error_rates needs {len(codes)} values, got {len(error_rates)}")
        rates = dict(zip(codes, error_rates, strict=True))
    if any(not 0.0 <= rate <= 1.0 for rate in rates.values()):
        raise ValueError("error rates must be between 0 and 1")

    rng = np.random.default_rng(seed)
    second_names = {
        letter: _MOTHER_INITIALS.get(letter, 0) + _FATHER_INITIALS.get(letter, 0)
        for letter in _ALPHABET
        if letter != "X"
    }
    letter_tables = {
        "mother_initial": _weights(_MOTHER_INITIALS),
        "father_initial": _weights(_FATHER_INITIALS),
        "birthplace_initial": _weights(_TOWN_INITIALS, floor=0.1),
        "second_name_initial": _weights(second_names),
    }
    columns: dict[str, list[str]] = {
        name: [letters[i] for i in rng.choice(len(letters), n_people, p=probs)]
        for name, (letters, probs) in letter_tables.items()
    }
    has_second = rng.random(n_people) < _SHARE_WITH_SECOND_NAME
    columns["second_name_initial"] = [
        letter if has else "X" for letter, has in zip(columns["second_name_initial"], has_second, strict=True)
    ]
    day_p = np.array(_DAY_WEIGHTS) / sum(_DAY_WEIGHTS)
    columns["birth_day"] = [str(d) for d in rng.choice(np.arange(1, 32), n_people, p=day_p)]
    sib_p = np.array(_OLDER_SIBLINGS) / sum(_OLDER_SIBLINGS)
    columns["older_siblings"] = [str(s) for s in rng.choice(np.arange(10), n_people, p=sib_p)]
    people: list[Code] = [tuple(columns[code][person] for code in codes) for person in range(n_people)]

    if heterogeneity > 0:
        shape = 1.0 / heterogeneity**2
        proneness = rng.gamma(shape, 1.0 / shape, n_people)
    else:
        proneness = np.ones(n_people)
    base = np.array([rates[code] for code in codes])

    waves: list[list[CodeRecord]] = []
    truth: dict[RecordId, int] = {}
    for wave in range(n_waves):
        present = np.arange(n_people) if wave == 0 else np.flatnonzero(rng.random(n_people) >= attrition)
        present = rng.permutation(present)
        error_p = np.minimum(base[None, :] * proneness[present, None], 0.9)
        wrong = rng.random(error_p.shape) < error_p
        missing = rng.random(error_p.shape) < missing_rate
        records = []
        for number, person in enumerate(present):
            answers = list(people[person])
            for position in np.flatnonzero(wrong[number]):
                true = str(people[person][position])
                answers[position] = _wrong_answer(rng, codes[position], true, people[person], letter_tables)
            for position in np.flatnonzero(missing[number]):
                answers[position] = ""
            record_id = f"w{wave + 1}-{number + 1}"
            records.append(CodeRecord(record_id, tuple(answers)))
            truth[record_id] = int(person)
        waves.append(records)
    return waves, truth


# --------------------------------------------------------------------------------------------------
# Scoring against planted truth
# --------------------------------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def score_links(result: LinkageResult, truth: Mapping[RecordId, Hashable]) -> dict[str, Any]:
    """Precision and recall of a linkage against the true person of every record.

    Parameters
    ----------
    result
        The linkage of two waves.
    truth
        Record id -> true person, for the records of both waves.

    Returns
    -------
    dict
        ``precision`` (correct links / links made), ``recall`` (correct links / true pairs, i.e. people
        with a record in both waves), ``exact_share`` (share of true pairs with identical complete
        codes), ``ambiguous_share`` (ambiguous records / all records) and the counts behind them. A
        ratio with a zero denominator is ``nan``.
    """
    earlier_ids, later_ids = result.ids("earlier"), result.ids("later")
    earlier_by_person: dict[Hashable, list[RecordId]] = defaultdict(list)
    for record_id in earlier_ids:
        earlier_by_person[truth[record_id]].append(record_id)
    true_pairs = [
        (earlier_id, later_id) for later_id in later_ids for earlier_id in earlier_by_person.get(truth[later_id], ())
    ]
    correct = [link for link in result.links if truth[link.earlier_id] == truth[link.later_id]]
    correct_exact = sum(1 for link in correct if link.differences == 0)
    exact_pairs = sum(
        1
        for earlier_id, later_id in true_pairs
        if earlier_id in result.earlier_codes
        and result.earlier_codes[earlier_id] == result.later_codes.get(later_id)
        and None not in result.earlier_codes[earlier_id]
    )
    ambiguous_ids = {(item.side, item.record_id) for item in result.ambiguous}
    ambiguous_pairs = sum(
        1
        for earlier_id, later_id in true_pairs
        if ("earlier", earlier_id) in ambiguous_ids or ("later", later_id) in ambiguous_ids
    )
    n_records = len(earlier_ids) + len(later_ids)
    return {
        "precision": _ratio(len(correct), len(result.links)),
        "recall": _ratio(len(correct), len(true_pairs)),
        "exact_share": _ratio(exact_pairs, len(true_pairs)) if result.earlier_codes else math.nan,
        "ambiguous_share": _ratio(len(result.ambiguous), n_records),
        "n_links": len(result.links),
        "n_correct_links": len(correct),
        "n_wrong_links": len(result.links) - len(correct),
        "n_exact_links": result.exact_count,
        "n_correct_exact_links": correct_exact,
        "n_fuzzy_links": result.fuzzy_count,
        "n_correct_fuzzy_links": len(correct) - correct_exact,
        "n_true_pairs": len(true_pairs),
        "n_exact_true_pairs": exact_pairs,
        "n_ambiguous_records": len(result.ambiguous),
        "n_true_pairs_ambiguous": ambiguous_pairs,
        "n_earlier": len(earlier_ids),
        "n_later": len(later_ids),
    }
