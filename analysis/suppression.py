"""Statistical disclosure control for company briefings: primary and complementary cell suppression.

A company briefing shows an employer figures about its own staff who take part in the study. Every figure
based on fewer than ``min_cell`` people (default 10) is suppressed (*primary suppression*), and further
cells are suppressed (*complementary* or *secondary suppression*) so that no hidden figure can be recovered,
or narrowed down, from the published cells and totals, nor by comparing two briefings of consecutive waves.

Conventions
-----------
* **Zeros stay visible.** A cell with count 0 is not primarily suppressed: an empty cell says nothing about
  any person. A zero next to a published total can reveal that everyone in the line is elsewhere (group
  disclosure); keeping zeros visible is nevertheless the conventional choice in official statistics and
  it is the one made here. The optimiser may hide a zero as a complementary cell (it can protect upwards),
  but charges it like the largest value, so a zero is hidden only when that saves a suppression.
* **Small lines.** A row or column whose total is ``0 < total < min_cell`` is hidden completely: all its
  cells (zeros included, the whole small group is withheld) and its total.
* **Small tables.** If the grand total is below ``min_cell`` everything is hidden, totals included.
* **The table with its margins.** Internally a table is handled as its *augmented* table of
  ``(m + 1) x (n + 1)`` entries: the cells, the row totals in an extra column, the column totals in an
  extra row and the grand total in the corner. Each row and each column of the augmented table is a
  *line* whose last entry is the sum of the others. With ``totals=False`` the margins are not published,
  which is the same as all margin entries being hidden (no complementary suppression is then needed).

What the audit guarantees: the interval attack
----------------------------------------------
The attacker knows every published cell and total, that every line sums to its total and that counts are
non-negative, and solves the linear programme for the smallest and the largest value of each hidden entry
(:func:`interval_bounds`, :func:`scipy.optimize.linprog` with HiGHS; the line constraints are totally
unimodular, so the bounds are integers and equal those over integer tables, which the tests check by
brute-force enumeration). Exact recovery (:func:`recoverable_cells`) is the special case of an interval
of width 0. Every table returned by :func:`suppress_table` and :func:`suppress_consistently` (with the
default ``method="optimal"``) passes both audits, or a ``RuntimeError`` is raised.

**Protection levels** (tau-ARGUS terms; Hundepool et al. 2012, chapters 4 and 5). An entry (cell or total) with
value ``0 < x < min_cell`` is sensitive, with lower protection level ``L = x`` and upper protection level
``U = min_cell - x``: the attacker's interval must reach down to 0 (they cannot rule out that the group is
empty) and up to ``min_cell`` (they cannot tell that the group was small enough to be suppressed). A zero
cell in a small line gets ``U = 1`` (it must not be known to be empty). :func:`interval_disclosures` lists
the sensitive entries whose interval does not cover ``[x - L, x + U] = [0, min_cell]``. The rule is the
strict one asked of tau-ARGUS's frequency rule; on briefing-shaped tables it costs about 5 % more hidden
entries than the old heuristic (which leaves about half of the tables open to the interval attack, see
``bench/suppression.py``), so no weaker rule was needed.

**Consecutive waves.** :func:`suppress_consistently` hides the same entries in every table. The attacker
is assumed to hold all of them; what links two waves' tables is only that shared pattern (the people and
their profiles change between waves, and no published figure is a sum over both waves), so their joint
linear programme splits into one per table and is audited table by table; the differences between the
waves have the same pattern and are protected against exact recovery. The first table's own pattern (its
earlier briefing) is kept hidden, so a later briefing never shows what an earlier one hid. The movement table
of a briefing (profile before x profile now) is suppressed on its own and is not part of this model.

Complementary suppression: the optimiser (default)
--------------------------------------------------
Minimal secondary suppression by exact optimisation (Fischetti and Salazar 2001), a mixed-integer
programme solved by HiGHS (:func:`scipy.optimize.milp`, in :mod:`analysis.suppression_optimal`): a binary
``y_i`` per entry of the augmented table (1 = hidden; primary suppressions fixed to 1); for each sensitive
entry ``s``, each direction with a positive protection level and each table, continuous attacker
deviations ``f`` with ``A f = 0`` (every line still sums), ``-min(x_i, P) y_i <= f_i <= P y_i`` (only hidden
entries move, no count below 0; ``P`` the protection level, a tight big-M) and ``f_s >= U_s`` or
``f_s <= -L_s``: a witness table inside the attacker's interval. The objective is the **number of hidden
entries** (cells and totals), with the hidden values as a tie-break below one suppression in total
(HiGHS's gap is set so that the number is proved minimal; the tie-break is best effort). The deviation
variables are added lazily, for the protections the current pattern violates (checked by maximum flow),
and capacity inequalities on ``y`` (each line through ``s`` must be able to absorb its deviation) are
always present; the result is the optimum of the full model. HiGHS has ``time_limit`` seconds: the best
pattern found by then is used (``SuppressedTable.method == "feasible"``), or, if none, the heuristic
below followed by the audits (``"fallback"``; everything is hidden if the heuristic fails the interval
audit), each with a warning.

Complementary suppression: the heuristic (``method="heuristic"``)
-----------------------------------------------------------------
The former rules, kept for comparison (in :mod:`analysis.suppression_heuristic`): every line holding a
hidden entry gets at least two (the smallest non-zero shown cell, else the line's total), iterated until
stable; then every sensitive hidden entry that is a bridge of the bipartite line graph (uniquely
determined) is closed into a cycle by hiding the cheapest path of shown entries. Audited for exact
recovery only: its tables can fail the interval attack.

References
----------
* M. Fischetti and J.-J. Salazar-Gonzalez (2001). Solving the cell suppression problem on tabular data
  with linear constraints. *Management Science* 47(7), 1008-1027.
* A. Hundepool et al. (2012). *Statistical Disclosure Control*. Wiley (chapters 4 and 5, magnitude and
  frequency tables: protection levels, the interval attack, secondary suppression).
* tau-ARGUS user's manual (Statistics Netherlands): protection levels, the "Optimal" (Fischetti-Salazar)
  and "Modular" secondary suppression.

Pure Python on pandas frames: no Flask, no database.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.suppression_heuristic import close_bridges, heuristic_pattern, sensitive_entries
from analysis.suppression_optimal import BOUND_TOLERANCE, entry_bounds, optimal_pattern, protection_levels

__all__ = [
    "SuppressedTable",
    "interval_bounds",
    "interval_disclosures",
    "recoverable_cells",
    "suppress_consistently",
    "suppress_means",
    "suppress_table",
]

#: Tolerance for the rank and null-space checks of :func:`recoverable_cells`.
TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class SuppressedTable:
    """A table of counts with the cells and totals that must not be shown.

    Attributes
    ----------
    counts : pandas.DataFrame
        The input counts (rows x columns), integers.
    mask : pandas.DataFrame
        Boolean, ``True`` where a cell must not be shown; same shape and labels as ``counts``.
    row_totals_hidden : pandas.Series
        Boolean per row: the row total must not be shown.
    column_totals_hidden : pandas.Series
        Boolean per column: the column total must not be shown.
    grand_total_hidden : bool
        The grand total must not be shown.
    method : str
        How the complementary suppressions were chosen: ``"optimal"`` (proved minimal by HiGHS),
        ``"feasible"`` (HiGHS hit its time limit; the best pattern found, audited), ``"heuristic"``,
        ``"fallback"`` (HiGHS found nothing in time: the heuristic, audited), or ``""`` (made by hand).
    """

    counts: pd.DataFrame
    mask: pd.DataFrame
    row_totals_hidden: pd.Series
    column_totals_hidden: pd.Series
    grand_total_hidden: bool
    method: str = ""

    def __post_init__(self) -> None:
        if not (self.mask.index.equals(self.counts.index) and self.mask.columns.equals(self.counts.columns)):
            raise ValueError("mask must have the same labels as counts")
        if not self.row_totals_hidden.index.equals(self.counts.index):
            raise ValueError("row_totals_hidden must be indexed by the rows of counts")
        if not self.column_totals_hidden.index.equals(self.counts.columns):
            raise ValueError("column_totals_hidden must be indexed by the columns of counts")

    @property
    def row_totals(self) -> pd.Series:
        """The full row totals (whether shown or not)."""
        return self.counts.sum(axis=1)

    @property
    def column_totals(self) -> pd.Series:
        """The full column totals (whether shown or not)."""
        return self.counts.sum(axis=0)

    @property
    def grand_total(self) -> int:
        """The full grand total (whether shown or not)."""
        return int(self.counts.to_numpy().sum())

    def shown(self) -> pd.DataFrame:
        """Return the counts with suppressed cells as ``pd.NA``.

        Returns
        -------
        pandas.DataFrame
            Nullable ``Int64`` counts, ``pd.NA`` where :attr:`mask` is ``True``.
        """
        return self.counts.astype("Int64").mask(self.mask.astype(bool))

    def percentages(self, axis: int = 1) -> pd.DataFrame:
        """Return row or column percentages of the shown cells.

        Parameters
        ----------
        axis : int, default 1
            ``1`` for row percentages (each cell as a percentage of its row total), ``0`` for column
            percentages.

        Returns
        -------
        pandas.DataFrame
            Floats in ``[0, 100]`` computed from the full totals; ``NaN`` where the cell is suppressed or
            where the relevant total is hidden (a percentage and its cell would give the total away) or zero.
        """
        values = self.counts.to_numpy(dtype=float)
        if axis == 1:
            totals = values.sum(axis=1)[:, None]
            hidden = self.row_totals_hidden.to_numpy(dtype=bool)[:, None]
        elif axis == 0:
            totals = values.sum(axis=0)[None, :]
            hidden = self.column_totals_hidden.to_numpy(dtype=bool)[None, :]
        else:
            raise ValueError(f"axis must be 0 or 1, not {axis!r}")
        usable = ~self.mask.to_numpy(dtype=bool) & ~hidden & (totals > 0)
        safe_totals = np.where(totals > 0, totals, 1.0)
        result = np.where(usable, 100.0 * values / safe_totals, np.nan)
        return pd.DataFrame(result, index=self.counts.index, columns=self.counts.columns)


# --- input handling -----------------------------------------------------------------------------------------


def _as_count_frame(counts: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Validate counts and return them as an ``int64`` DataFrame (a Series becomes one row)."""
    if isinstance(counts, pd.Series):
        name = counts.name if counts.name is not None else 0
        counts = counts.to_frame().T
        counts.index = pd.Index([name])
    if not isinstance(counts, pd.DataFrame):
        raise TypeError("counts must be a pandas DataFrame or Series")
    if counts.shape[0] == 0 or counts.shape[1] == 0:
        raise ValueError("counts must have at least one row and one column")
    if counts.index.has_duplicates or counts.columns.has_duplicates:
        raise ValueError("row and column labels must be unique")
    try:
        values = counts.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("counts must be numeric") from exc
    if not np.isfinite(values).all():
        raise ValueError("counts must not contain missing or infinite values")
    if (values < 0).any() or (values != np.round(values)).any():
        raise ValueError("counts must be non-negative integers")
    return pd.DataFrame(values.astype(np.int64), index=counts.index, columns=counts.columns)


def _augmented_values(values: np.ndarray) -> np.ndarray:
    """Cells with row totals in an extra column, column totals in an extra row and the grand total."""
    m, n = values.shape
    aug = np.zeros((m + 1, n + 1), dtype=np.int64)
    aug[:m, :n] = values
    aug[:m, n] = values.sum(axis=1)
    aug[m, :n] = values.sum(axis=0)
    aug[m, n] = values.sum()
    return aug


def _augmented_hidden(table: SuppressedTable) -> np.ndarray:
    m, n = table.counts.shape
    hidden = np.zeros((m + 1, n + 1), dtype=bool)
    hidden[:m, :n] = table.mask.to_numpy(dtype=bool)
    hidden[:m, n] = table.row_totals_hidden.to_numpy(dtype=bool)
    hidden[m, :n] = table.column_totals_hidden.to_numpy(dtype=bool)
    hidden[m, n] = bool(table.grand_total_hidden)
    return hidden


def _make_table(counts: pd.DataFrame, hidden: np.ndarray, method: str = "") -> SuppressedTable:
    m, n = counts.shape
    return SuppressedTable(
        counts=counts,
        mask=pd.DataFrame(hidden[:m, :n].copy(), index=counts.index, columns=counts.columns),
        row_totals_hidden=pd.Series(hidden[:m, n].copy(), index=counts.index, dtype=bool),
        column_totals_hidden=pd.Series(hidden[m, :n].copy(), index=counts.columns, dtype=bool),
        grand_total_hidden=bool(hidden[m, n]),
        method=method,
    )


# --- primary suppression ------------------------------------------------------------------------------------


def _primary(aug: np.ndarray, min_cell: int, totals: bool) -> np.ndarray:
    """Hidden entries of the augmented table by the primary rules (see the module docstring)."""
    m, n = aug.shape[0] - 1, aug.shape[1] - 1
    hidden = np.zeros(aug.shape, dtype=bool)
    if aug[m, n] < min_cell:
        hidden[:, :] = True
        return hidden
    cells = aug[:m, :n]
    hidden[:m, :n] = (cells > 0) & (cells < min_cell)
    small_rows = (aug[:m, n] > 0) & (aug[:m, n] < min_cell)
    small_cols = (aug[m, :n] > 0) & (aug[m, :n] < min_cell)
    hidden[:m, :][small_rows] = True
    hidden[:, :n][:, small_cols] = True
    hidden[m, :n][small_cols] = True
    if not totals:
        hidden[:, n] = True
        hidden[m, :] = True
    return hidden


# --- complementary suppression ------------------------------------------------------------------------------


def _pattern(
    augs: Sequence[np.ndarray], primary: np.ndarray, *, min_cell: int, totals: bool, method: str, time_limit: float
) -> tuple[np.ndarray, str]:
    """The hidden entries shared by ``augs`` and how they were found (see :attr:`SuppressedTable.method`)."""
    if method not in ("optimal", "heuristic"):
        raise ValueError(f"method must be 'optimal' or 'heuristic', not {method!r}")
    if method == "heuristic" or not totals or primary.all():
        return heuristic_pattern(augs, primary, totals), method
    protections = [protection_levels(a, min_cell) for a in augs]
    found = optimal_pattern(augs, primary, protections, time_limit=time_limit)
    if found is None:
        warnings.warn("HiGHS found no suppression pattern in time: the heuristic is used", stacklevel=3)
        hidden = heuristic_pattern(augs, primary, totals)
        if any(_interval_leaks(a, hidden, min_cell) for a in augs):
            warnings.warn("the heuristic fails the interval audit: the whole table is hidden", stacklevel=3)
            hidden = np.ones_like(primary)
        return hidden, "fallback"
    hidden = found.hidden.copy()
    close_bridges(np.sum(augs, axis=0), hidden, sensitive_entries(primary, totals))  # a no-op for a proved optimum
    if not found.optimal:
        warnings.warn("HiGHS hit its time limit: the best suppression pattern found is used", stacklevel=3)
    return hidden, "optimal" if found.optimal else "feasible"


def _interval_leaks(aug: np.ndarray, hidden: np.ndarray, min_cell: int) -> list[tuple[int, int]]:
    """Protected entries of the augmented table that are shown or whose LP interval is too narrow."""
    lower, upper = protection_levels(aug, min_cell)
    protected = [(int(i), int(j)) for i, j in zip(*np.nonzero((lower > 0) | (upper > 0)), strict=True)]
    leaks = [e for e in protected if not hidden[e]]
    audited = [e for e in protected if hidden[e]]
    if audited:
        lo, hi = entry_bounds(aug, hidden, audited)
        leaks += [
            e
            for e in audited
            if lo[e] > aug[e] - lower[e] + BOUND_TOLERANCE or hi[e] < aug[e] + upper[e] - BOUND_TOLERANCE
        ]
    return sorted(leaks)


def _check(table: SuppressedTable, min_cell: int | None = None) -> SuppressedTable:
    """Raise unless no hidden cell is recoverable and (with ``min_cell``) the interval audit passes."""
    leaked = recoverable_cells(table)
    if leaked:
        raise RuntimeError(f"suppression failed: cells {leaked!r} can be derived from the shown figures")
    if min_cell is not None:
        narrowed = interval_disclosures(table, min_cell=min_cell)
        if narrowed:
            raise RuntimeError(f"suppression failed: entries {narrowed!r} can be bounded too closely")
    return table


# --- public API ---------------------------------------------------------------------------------------------


def suppress_table(
    counts: pd.DataFrame | pd.Series,
    *,
    min_cell: int = 10,
    totals: bool = True,
    method: str = "optimal",
    time_limit: float = 2.0,
) -> SuppressedTable:
    """Suppress the cells and totals of a table of counts that are, or would reveal, figures below ``min_cell``.

    Parameters
    ----------
    counts : pandas.DataFrame or pandas.Series
        Non-negative integer counts (rows x columns). A Series is treated as a one-row table whose total is
        published (its column totals are its cells).
    min_cell : int, default 10
        Smallest number of people a published figure may be based on.
    totals : bool, default True
        Whether row, column and grand totals are published. If ``False`` they are all marked hidden and no
        complementary suppression is needed (the shown cells are then unrelated by any published sum).
    method : {"optimal", "heuristic"}, default "optimal"
        ``"optimal"``: the fewest complementary suppressions that protect every sensitive entry against the
        interval attack (a MILP solved by HiGHS, see the module docstring). ``"heuristic"``: the former
        rules (two per line, then closing bridges), audited for exact recovery only; kept for comparison.
    time_limit : float, default 2.0
        Seconds HiGHS may spend; the best pattern found by then is used (``method`` of the result
        ``"feasible"``), or the heuristic if none was (``"fallback"``), with a warning.

    Returns
    -------
    SuppressedTable
        The counts with the mask of hidden cells and the hidden totals.

    Notes
    -----
    Primary suppression hides every cell with ``0 < count < min_cell`` (zeros stay visible, see the module
    docstring); a row or column with total ``0 < total < min_cell`` is hidden completely with its total; a
    grand total below ``min_cell`` hides everything. Complementary suppression runs only when ``totals``.
    The result is checked with :func:`recoverable_cells` and, unless ``method="heuristic"``, with
    :func:`interval_disclosures`.

    Raises
    ------
    ValueError
        If the counts are not non-negative integers, labels are not unique, ``min_cell < 1`` or ``method``
        is unknown.
    RuntimeError
        If the result fails an audit (which the construction rules out).
    """
    if min_cell < 1:
        raise ValueError("min_cell must be at least 1")
    frame = _as_count_frame(counts)
    aug = _augmented_values(frame.to_numpy())
    primary = _primary(aug, min_cell, totals)
    hidden, used = _pattern([aug], primary, min_cell=min_cell, totals=totals, method=method, time_limit=time_limit)
    return _check(_make_table(frame, hidden, used), None if method == "heuristic" else min_cell)


def _union_labels(indexes: Sequence[pd.Index]) -> pd.Index:
    labels: list[Any] = []
    seen: set[Any] = set()
    for index in indexes:
        for label in index:
            if label not in seen:
                seen.add(label)
                labels.append(label)
    union: pd.Index = pd.Index(labels)
    return union


def suppress_consistently(
    tables: Sequence[pd.DataFrame],
    *,
    min_cell: int = 10,
    totals: bool = True,
    method: str = "optimal",
    time_limit: float = 2.0,
) -> list[SuppressedTable]:
    """Suppress several tables with the same labels so that every one hides the same cells and totals.

    Use this for tables published side by side or in consecutive briefings, e.g. the same organisation's
    profile x job-type counts at wave 1 and at wave 2: comparing or differencing the briefings must never
    reveal a cell hidden in one of them.

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        Non-negative integer counts. Row and column labels are aligned on their union (in order of first
        appearance); a label missing from a table counts 0 there.
    min_cell : int, default 10
        Smallest number of people a published figure may be based on.
    totals : bool, default True
        Whether row, column and grand totals are published.
    method : {"optimal", "heuristic"}, default "optimal"
        As for :func:`suppress_table`.
    time_limit : float, default 2.0
        As for :func:`suppress_table`.

    Returns
    -------
    list of SuppressedTable
        One per input table, on the aligned labels, all with the same mask and hidden totals.

    Notes
    -----
    The primary suppressions of all tables are united and hidden in every table. ``"optimal"``: the first
    table is taken to be the one published earliest, and the pattern :func:`suppress_table` gives it on its
    own is hidden as well (so a later briefing never shows what the earlier one hid); then one MILP chooses
    the fewest further suppressions of one shared pattern such that every entry sensitive in *any* table
    keeps its protection interval in that table, given everything published in all of them (the
    attacker's model is described in the module docstring). ``"heuristic"``: complementary suppression is
    run for each table from the union and the results united again, until stable. Since the hidden entries
    are the same in all tables, their differences have the same pattern and are protected against exact
    recovery as well.
    """
    if min_cell < 1:
        raise ValueError("min_cell must be at least 1")
    if len(tables) == 0:
        return []
    frames = [_as_count_frame(t) for t in tables]
    index = _union_labels([f.index for f in frames])
    columns = _union_labels([f.columns for f in frames])
    frames = [f.reindex(index=index, columns=columns, fill_value=0).astype(np.int64) for f in frames]
    augs = [_augmented_values(f.to_numpy()) for f in frames]
    union = np.logical_or.reduce([_primary(a, min_cell, totals) for a in augs])
    if method == "optimal" and len(augs) > 1:
        # the first table's own pattern (its briefing, published earlier) stays hidden
        first = _primary(augs[0], min_cell, totals)
        union |= _pattern(augs[:1], first, min_cell=min_cell, totals=totals, method=method, time_limit=time_limit)[0]
    hidden, used = _pattern(augs, union, min_cell=min_cell, totals=totals, method=method, time_limit=time_limit)
    audit = None if method == "heuristic" else min_cell
    return [_check(_make_table(f, hidden, used), audit) for f in frames]


def interval_bounds(table: SuppressedTable) -> pd.DataFrame:
    """The attacker's interval for every hidden cell and total: the LP over everything the table publishes.

    For each hidden entry of the augmented table, the minimum and the maximum over every non-negative real
    table whose rows and columns sum to their totals and whose shown cells and totals equal the published
    ones (:func:`scipy.optimize.linprog`, HiGHS). The line constraints are totally unimodular, so the bounds
    are integers and equal those over integer tables.

    Parameters
    ----------
    table : SuppressedTable
        The table to audit.

    Returns
    -------
    pandas.DataFrame
        One row per hidden entry, indexed by ``(row, column)`` labels with ``"Total"`` for the margins, in
        row-major order; columns ``value`` (the true one), ``lower`` and ``upper`` (``inf`` if unbounded).
    """
    hidden = _augmented_hidden(table)
    aug = _augmented_values(table.counts.to_numpy())
    lo, hi = entry_bounds(aug, hidden)
    rows = [*table.counts.index, "Total"]
    cols = [*table.counts.columns, "Total"]
    entries = [(int(i), int(j)) for i, j in zip(*np.nonzero(hidden), strict=True)]
    index = pd.MultiIndex.from_tuples([(rows[i], cols[j]) for i, j in entries], names=["row", "column"])
    return pd.DataFrame(
        {
            "value": [int(aug[e]) for e in entries],
            "lower": [float(lo[e]) for e in entries],
            "upper": [float(hi[e]) for e in entries],
        },
        index=index,
    )


def interval_disclosures(table: SuppressedTable, *, min_cell: int = 10) -> list[tuple[Any, Any]]:
    """Return the sensitive cells and totals that the interval attack pins down closer than allowed.

    An entry with value ``0 < x < min_cell`` is disclosed if it is shown or if its interval from
    :func:`interval_bounds` does not cover ``[0, min_cell]`` (protection levels ``L = x``,
    ``U = min_cell - x``); a zero in a small line if it is shown or its upper bound is below 1. See the
    module docstring. For tables suppressed together by :func:`suppress_consistently`, audit each one: no
    published equation links two waves' tables, so the attacker's joint LP splits into one per table.

    Parameters
    ----------
    table : SuppressedTable
        The table to audit.
    min_cell : int, default 10
        The threshold the table was suppressed with.

    Returns
    -------
    list of tuple
        ``(row, column)`` labels (``"Total"`` for a margin) in row-major order; empty if the table is safe.
    """
    aug = _augmented_values(table.counts.to_numpy())
    rows = [*table.counts.index, "Total"]
    cols = [*table.counts.columns, "Total"]
    return [(rows[i], cols[j]) for i, j in _interval_leaks(aug, _augmented_hidden(table), min_cell)]


def suppress_means(means: pd.Series, ns: pd.Series, *, min_cell: int = 10) -> pd.Series:
    """Hide a statistic per group where the group has fewer than ``min_cell`` members.

    Parameters
    ----------
    means : pandas.Series
        A mean (or any statistic) per group.
    ns : pandas.Series
        Group sizes, aligned with ``means`` by label; a group without a size is hidden.
    min_cell : int, default 10
        Smallest group size whose statistic may be published.

    Returns
    -------
    pandas.Series
        ``means`` as floats, ``NaN`` where ``n < min_cell``.
    """
    sizes = pd.to_numeric(ns.reindex(means.index), errors="coerce").astype(float)
    keep = (sizes >= min_cell).to_numpy()
    return pd.Series(np.where(keep, means.to_numpy(dtype=float), np.nan), index=means.index, name=means.name)


def recoverable_cells(table: SuppressedTable) -> list[tuple[Any, ...]]:
    """Return the suppressed cells whose exact value can be derived from what is shown.

    The shown cells and the shown row, column and grand totals give the linear system "every row and column
    of cells sums to its total, the totals sum to the grand total" in the hidden entries (hidden cells and
    hidden totals). A hidden cell is recoverable when it is uniquely determined by that system, i.e. its unit
    vector lies in the row space of the constraint matrix restricted to the hidden entries, equivalently the
    null space of that matrix is zero in its coordinate.

    Parameters
    ----------
    table : SuppressedTable
        The table to audit.

    Returns
    -------
    list of tuple
        ``(row, column)`` labels of the recoverable suppressed cells, in row-major order; empty if the
        suppression is safe.
    """
    m, n = table.counts.shape
    return [label for label, (i, j) in _recoverable_entries(table) if i < m and j < n]


def _recoverable_entries(table: SuppressedTable) -> list[tuple[tuple[Any, ...], tuple[int, int]]]:
    """All recoverable hidden entries of the augmented table, totals included, with their labels."""
    m, n = table.counts.shape
    hidden = _augmented_hidden(table)
    unknowns = [(int(i), int(j)) for i, j in zip(*np.nonzero(hidden), strict=True)]
    if not unknowns:
        return []
    # One equation per augmented line: sum of its entries minus its total = 0.
    a = np.zeros((m + n + 2, len(unknowns)))
    for k, (i, j) in enumerate(unknowns):
        a[i, k] += -1.0 if j == n else 1.0  # row line i
        a[m + 1 + j, k] += -1.0 if i == m else 1.0  # column line j
    _, s, vt = np.linalg.svd(a, full_matrices=True)
    rank = int((s > TOLERANCE * max(1.0, s.max(initial=0.0))).sum())
    null = vt[rank:].T  # columns span the null space
    determined = np.linalg.norm(null, axis=1) < TOLERANCE if null.size else np.ones(len(unknowns), dtype=bool)
    rows = [*table.counts.index, "Total"]
    cols = [*table.counts.columns, "Total"]
    return [((rows[i], cols[j]), (i, j)) for (i, j), det in zip(unknowns, determined, strict=True) if det]
