"""Statistical disclosure control for company briefings: primary and complementary cell suppression.

A company briefing shows an employer figures about its own staff who take part in the study. Every figure
based on fewer than ``min_cell`` people (default 10) is suppressed (*primary suppression*), and further
cells are suppressed so that a hidden cell cannot be recovered from the published totals, from the other
cells, or by differencing two briefings of consecutive waves (*complementary suppression*).

Conventions
-----------
* **Zeros stay visible.** A cell with count 0 is not primarily suppressed: an empty cell says nothing about
  any person. A zero next to a published total can reveal that everyone in the line is elsewhere (group
  disclosure); keeping zeros visible is nevertheless the conventional choice in official statistics and
  it is the one made here. Zeros are not chosen as complementary cells either (hiding a zero protects
  nothing unless no other choice exists, see below).
* **Small lines.** A row or column whose total is ``0 < total < min_cell`` is hidden completely: all its
  cells (zeros included, the whole small group is withheld) and its total.
* **Small tables.** If the grand total is below ``min_cell`` everything is hidden, totals included.
* **The table with its margins.** Internally a table is handled as its *augmented* table of
  ``(m + 1) x (n + 1)`` entries: the cells, the row totals in an extra column, the column totals in an
  extra row and the grand total in the corner. Each row and each column of the augmented table is a
  *line* whose last entry is the sum of the others. With ``totals=False`` the margins are not published,
  which is the same as all margin entries being hidden.

Complementary suppression
-------------------------
1. The classic heuristic: every line of the augmented table (the margins included, so the column of row
   totals is a line whose total is the grand total) that holds a hidden entry must hold at least two. The
   complement is the smallest non-zero shown cell of the line (ties: the first); if there is none, the
   line's total is hidden instead. This is iterated until stable, since a complement added to a row can
   break a column.
2. The heuristic alone is not sufficient: two blocks of hidden cells joined by one hidden cell satisfy
   "two per line" and still give the joining cell away. The linear system "each line sums to its total"
   is, up to signs, the incidence matrix of the bipartite graph with one node per augmented row and
   column and one edge per hidden entry. An entry is uniquely determined exactly when its edge is a
   *bridge* of that graph (lies on no cycle). Every bridge that is a sensitive entry (a hidden cell, or a
   primarily suppressed total) is therefore closed into a cycle by hiding the cheapest path of shown
   entries between its two ends (cost = the entry's count, zeros only as a last resort). Hiding a path
   never creates new bridges, so this terminates.
3. A runtime check with the independent linear-algebra auditor :func:`recoverable_cells` confirms that no
   hidden cell can be derived.

The audit is about exact linear disclosure. Bounds implied by non-negativity of counts (interval
disclosure) are not audited.

Pure Python on pandas frames: no Flask, no database.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SuppressedTable",
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
    """

    counts: pd.DataFrame
    mask: pd.DataFrame
    row_totals_hidden: pd.Series
    column_totals_hidden: pd.Series
    grand_total_hidden: bool

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


def _make_table(counts: pd.DataFrame, hidden: np.ndarray) -> SuppressedTable:
    m, n = counts.shape
    return SuppressedTable(
        counts=counts,
        mask=pd.DataFrame(hidden[:m, :n].copy(), index=counts.index, columns=counts.columns),
        row_totals_hidden=pd.Series(hidden[:m, n].copy(), index=counts.index, dtype=bool),
        column_totals_hidden=pd.Series(hidden[m, :n].copy(), index=counts.columns, dtype=bool),
        grand_total_hidden=bool(hidden[m, n]),
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


def _lines(m: int, n: int) -> list[list[tuple[int, int]]]:
    """Every row and column of the augmented table; the last entry of each line is its total."""
    rows = [[(i, j) for j in range(n + 1)] for i in range(m + 1)]
    cols = [[(i, j) for i in range(m + 1)] for j in range(n + 1)]
    return rows + cols


def _two_per_line(aug: np.ndarray, hidden: np.ndarray) -> None:
    """The classic heuristic, in place: every line with a hidden entry gets at least two."""
    m, n = aug.shape[0] - 1, aug.shape[1] - 1
    lines = _lines(m, n)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[e] for e in line) != 1:
                continue
            candidates = [(aug[e], k, e) for k, e in enumerate(line[:-1]) if not hidden[e] and aug[e] > 0]
            if candidates:
                pick = min(candidates)[2]
            elif not hidden[line[-1]]:
                pick = line[-1]
            else:
                continue  # only the total is hidden and every other entry is zero: left to the bridge step
            hidden[pick] = True
            changed = True


def _node(entry: tuple[int, int], m: int) -> tuple[int, int]:
    """The two graph nodes of an augmented entry: its row ``i`` and its column ``m + 1 + j``."""
    i, j = entry
    return i, m + 1 + j


def _connected_without(hidden: np.ndarray, entry: tuple[int, int]) -> bool:
    """Whether the two ends of ``entry`` are joined by other hidden entries (``entry`` lies on a cycle)."""
    m = hidden.shape[0] - 1
    start, goal = _node(entry, m)
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        neighbours = (
            [(node, j) for j in range(hidden.shape[1])]
            if node <= m
            else [(i, node - m - 1) for i in range(hidden.shape[0])]
        )
        for e in neighbours:
            if e == entry or not hidden[e]:
                continue
            other = _node(e, m)[1] if node <= m else e[0]
            if other == goal:
                return True
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return False


def _cheapest_cycle(aug: np.ndarray, hidden: np.ndarray, entry: tuple[int, int]) -> list[tuple[int, int]]:
    """Shown entries to hide so that ``entry`` lies on a cycle of hidden entries (Dijkstra)."""
    m, n = aug.shape[0] - 1, aug.shape[1] - 1
    last_resort = 4 * int(aug[m, n]) + 1  # exceeds the sum of all entries: zeros only if unavoidable

    def cost(e: tuple[int, int]) -> int:
        if hidden[e]:
            return 0
        return int(aug[e]) if aug[e] > 0 else last_resort

    start, goal = _node(entry, m)
    best = {start: 0}
    via: dict[int, tuple[int, tuple[int, int]]] = {}
    heap = [(0, start)]
    while heap:
        dist, node = heapq.heappop(heap)
        if node == goal:
            break
        if dist > best.get(node, np.inf):
            continue
        if node <= m:
            steps = [((node, j), m + 1 + j) for j in range(n + 1)]
        else:
            steps = [((i, node - m - 1), i) for i in range(m + 1)]
        for e, other in steps:
            if e == entry:
                continue
            new = dist + cost(e)
            if new < best.get(other, np.inf):
                best[other] = new
                via[other] = (node, e)
                heapq.heappush(heap, (new, other))
    path = []
    node = goal
    while node != start:
        node, e = via[node]
        if not hidden[e]:
            path.append(e)
    return path


def _close_bridges(aug: np.ndarray, hidden: np.ndarray, sensitive: np.ndarray) -> None:
    """Hide further entries, in place, until no sensitive hidden entry is a bridge (uniquely determined)."""
    while True:
        bridge = next(
            (
                (int(i), int(j))
                for i, j in zip(*np.nonzero(hidden & sensitive), strict=True)
                if not _connected_without(hidden, (int(i), int(j)))
            ),
            None,
        )
        if bridge is None:
            return
        for e in _cheapest_cycle(aug, hidden, bridge):
            hidden[e] = True


def _sensitive(primary: np.ndarray, totals: bool) -> np.ndarray:
    """Entries that must not be derivable: every interior cell, and the primarily suppressed totals."""
    m, n = primary.shape[0] - 1, primary.shape[1] - 1
    sensitive = np.zeros(primary.shape, dtype=bool)
    sensitive[:m, :n] = True
    if totals:
        sensitive[:m, n] = primary[:m, n]
        sensitive[m, :] = primary[m, :]
    return sensitive


def _complete(aug: np.ndarray, hidden: np.ndarray, sensitive: np.ndarray, totals: bool) -> np.ndarray:
    """Complementary suppression starting from ``hidden``; returns a new array."""
    hidden = hidden.copy()
    if totals and not hidden.all():
        _two_per_line(aug, hidden)
        _close_bridges(aug, hidden, sensitive)
    return hidden


def _check(table: SuppressedTable) -> SuppressedTable:
    leaked = recoverable_cells(table)
    if leaked:
        raise RuntimeError(f"suppression failed: cells {leaked!r} can be derived from the shown figures")
    return table


# --- public API ---------------------------------------------------------------------------------------------


def suppress_table(counts: pd.DataFrame | pd.Series, *, min_cell: int = 10, totals: bool = True) -> SuppressedTable:
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

    Returns
    -------
    SuppressedTable
        The counts with the mask of hidden cells and the hidden totals.

    Notes
    -----
    Primary suppression hides every cell with ``0 < count < min_cell`` (zeros stay visible, see the module
    docstring); a row or column with total ``0 < total < min_cell`` is hidden completely with its total; a
    grand total below ``min_cell`` hides everything. Complementary suppression (only when ``totals``) makes
    every line holding a hidden entry hold at least two (the smallest non-zero shown cell, ties first, else
    the line's total), iterated until stable, and then hides the cheapest further entries that close any
    remaining uniquely determined hidden entry into a cycle. The result is checked with
    :func:`recoverable_cells`.

    Raises
    ------
    ValueError
        If the counts are not non-negative integers, labels are not unique, or ``min_cell < 1``.
    """
    if min_cell < 1:
        raise ValueError("min_cell must be at least 1")
    frame = _as_count_frame(counts)
    aug = _augmented_values(frame.to_numpy())
    primary = _primary(aug, min_cell, totals)
    hidden = _complete(aug, primary, _sensitive(primary, totals), totals)
    return _check(_make_table(frame, hidden))


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
    tables: Sequence[pd.DataFrame], *, min_cell: int = 10, totals: bool = True
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

    Returns
    -------
    list of SuppressedTable
        One per input table, on the aligned labels, all with the same mask and hidden totals.

    Notes
    -----
    The primary suppressions of all tables are united; then complementary suppression is run for each table
    from the union and the results united again, until the union is stable, so that the shared pattern is
    safe for every table. Since the hidden entries are the same in all tables, their differences have the
    same pattern and are protected as well.
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
    primaries = [_primary(a, min_cell, totals) for a in augs]
    union = np.logical_or.reduce(primaries)
    sensitive = _sensitive(union, totals)
    while True:
        new = np.logical_or.reduce([_complete(a, union, sensitive, totals) for a in augs])
        if (new == union).all():
            break
        union = new
    return [_check(_make_table(f, union)) for f in frames]


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
