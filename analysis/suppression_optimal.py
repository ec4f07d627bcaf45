"""Interval audit and optimal complementary suppression on augmented tables (arrays only).

The helpers of :mod:`analysis.suppression` for its interval guarantee: the protection levels of the sensitive
entries, the attacker's linear programme (:func:`entry_bounds`) and the mixed-integer programme of Fischetti
and Salazar (2001) that chooses the fewest complementary suppressions (:func:`optimal_pattern`). Everything
here works on the *augmented* table, an ``(m + 1) x (n + 1)`` integer array whose last column holds the row
totals, whose last row holds the column totals and whose corner holds the grand total; see the module
docstring of :mod:`analysis.suppression` for the conventions and the choices made.

Pure NumPy and SciPy (HiGHS through :func:`scipy.optimize.linprog` and :func:`scipy.optimize.milp`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import maximum_flow

__all__ = ["OptimalPattern", "entry_bounds", "line_matrix", "optimal_pattern", "protection_levels"]

#: Slack for comparing the attacker's LP bounds (floats from HiGHS) with integer protection intervals.
BOUND_TOLERANCE = 1e-6


def line_matrix(m: int, n: int) -> np.ndarray:
    """The ``(m + 1) + (n + 1)`` line equations of an ``m x n`` table's augmented table, entries row-major.

    Row ``i`` of the result is "the cells of augmented row ``i`` minus its total equal 0", row ``m + 1 + j``
    the same for augmented column ``j``. With the totals' signs flipped (row and column totals negated, the
    grand total kept) every line sums to zero, so the null space is the space of circulations of the
    bipartite graph with one node per line and one edge per entry.
    """
    a = np.zeros((m + n + 2, (m + 1) * (n + 1)))
    for i in range(m + 1):
        for j in range(n + 1):
            k = i * (n + 1) + j
            a[i, k] = -1.0 if j == n else 1.0
            a[m + 1 + j, k] = -1.0 if i == m else 1.0
    return a


def protection_levels(aug: np.ndarray, min_cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper protection levels of every entry of an augmented table (0 where none is required).

    A cell or total with value ``0 < x < min_cell`` gets ``L = x`` and ``U = min_cell - x``: the attacker's
    interval must reach down to 0 and up to ``min_cell``. A zero cell in a small line (one whose total is
    ``0 < total < min_cell``, hidden completely by the primary rules) gets ``U = 1``: it must not be known
    to be empty. If the grand total is below ``min_cell`` every entry is hidden and nothing is published,
    so no protection is needed.
    """
    m, n = aug.shape[0] - 1, aug.shape[1] - 1
    lower = np.zeros(aug.shape, dtype=np.int64)
    upper = np.zeros(aug.shape, dtype=np.int64)
    if aug[m, n] < min_cell:
        return lower, upper
    small = (aug > 0) & (aug < min_cell)
    lower[small] = aug[small]
    upper[small] = min_cell - aug[small]
    small_rows = (aug[:m, n] > 0) & (aug[:m, n] < min_cell)
    small_cols = (aug[m, :n] > 0) & (aug[m, :n] < min_cell)
    in_small_line = np.zeros((m, n), dtype=bool)
    in_small_line[small_rows, :] = True
    in_small_line[:, small_cols] = True
    empty = in_small_line & (aug[:m, :n] == 0)
    upper[:m, :n][empty] = 1
    return lower, upper


def entry_bounds(
    aug: np.ndarray, hidden: np.ndarray, entries: Sequence[tuple[int, int]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The attacker's bounds on hidden entries: min and max over the linear programme of the published table.

    The feasible set is every non-negative real augmented table whose lines sum to their totals and whose
    shown entries equal the published ones. Entries not audited (shown, or not in ``entries``) get their true
    value; an entry without an upper bound gets ``inf``.

    Parameters
    ----------
    aug : numpy.ndarray
        The augmented table (integers).
    hidden : numpy.ndarray
        Boolean, same shape, ``True`` where the entry is not published.
    entries : sequence of (int, int), optional
        The hidden entries to bound; default all hidden entries.
    """
    m, n = aug.shape[0] - 1, aug.shape[1] - 1
    lo = aug.astype(float)
    hi = aug.astype(float)
    flat_hidden = hidden.ravel()
    if not flat_hidden.any():
        return lo, hi
    a = line_matrix(m, n)
    a_hidden = a[:, flat_hidden]
    rhs = -a[:, ~flat_hidden] @ aug.ravel()[~flat_hidden].astype(float)
    keep = np.abs(a_hidden).sum(axis=1) > 0  # lines without hidden entries are published identities
    a_hidden, rhs = a_hidden[keep], rhs[keep]
    position = {int(k): p for p, k in enumerate(np.flatnonzero(flat_hidden))}
    targets = entries if entries is not None else [(int(i), int(j)) for i, j in zip(*np.nonzero(hidden), strict=True)]
    for i, j in targets:
        if not hidden[i, j]:
            continue
        c = np.zeros(a_hidden.shape[1])
        c[position[i * (n + 1) + j]] = 1.0
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_eq=a_hidden, b_eq=rhs, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded: only possible for the maximum
                value = np.inf
            elif res.status != 0:
                raise RuntimeError(f"interval audit: the published table is infeasible ({res.message})")
            else:
                value = sign * float(res.fun if res.fun is not None else np.nan)
            if sign > 0:
                lo[i, j] = value
            else:
                hi[i, j] = value
    return lo, hi


def flow_bounds(
    aug: np.ndarray, hidden: np.ndarray, entries: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """The bounds of :func:`entry_bounds` by maximum flow instead of linear programming (much faster).

    With the totals' signs flipped the feasible deviations are the circulations of the bipartite graph with
    one node per line and one edge per hidden entry, an edge able to carry ``x_k`` one way (the entry going
    down to 0) and without limit the other way. The largest rise of entry ``s`` is the maximum flow between
    its two nodes with ``s`` removed, its largest fall the maximum flow the other way, capped at ``x_s``.
    """
    m, n = aug.shape[0] - 1, aug.shape[1] - 1
    lo = aug.astype(float)
    hi = aug.astype(float)
    unlimited = int(4 * aug[m, n] + 1) if aug[m, n] > 0 else 1
    unlimited = min(max(unlimited, int(aug.max()) + 1), 2**30)
    nodes = m + n + 2
    capacity = np.zeros((nodes, nodes), dtype=np.int32)
    for i, j in zip(*np.nonzero(hidden), strict=True):
        col = m + 1 + j
        down, up = min(int(aug[i, j]), unlimited), unlimited
        # z = sign * f flows row -> col (row and column totals flipped); f falls by at most x, rises freely
        flipped = (i == m) != (j == n)
        capacity[i, col] = down if flipped else up
        capacity[col, i] = up if flipped else down
    for s in entries:
        if not hidden[s]:
            continue
        without = capacity.copy()
        without[s[0], m + 1 + s[1]] = without[m + 1 + s[1], s[0]] = 0
        graph = csr_array(without)
        i, j = s
        sign = -1 if (i == m) != (j == n) else 1
        row, col = i, m + 1 + j
        # f_s rising means z_s = sign * f_s flowing row -> col along s, returning from col to row
        rise = maximum_flow(graph, col, row).flow_value if sign > 0 else maximum_flow(graph, row, col).flow_value
        fall = maximum_flow(graph, row, col).flow_value if sign > 0 else maximum_flow(graph, col, row).flow_value
        hi[s] = np.inf if rise >= unlimited else aug[s] + rise
        lo[s] = aug[s] - min(int(aug[s]), fall)
    return lo, hi


@dataclass(frozen=True)
class OptimalPattern:
    """The result of :func:`optimal_pattern`: the hidden entries and how they were found."""

    hidden: np.ndarray
    optimal: bool  # HiGHS proved optimality (else: best pattern found within the time limit)
    seconds: float


_Block = tuple[int, int, float, int]  # (table, entry, protection level, +1 up / -1 down)


def _capacity_cuts(a: np.ndarray, x: np.ndarray, block: _Block) -> list[tuple[list[int], list[float], float]]:
    """Valid inequalities on ``y`` for one block: every line through ``s`` must absorb its deviation.

    In a line through ``s`` the other entries must move by ``level`` in total against ``s``'s contribution;
    an entry that has to go down can move by at most ``min(x_k, level)``, one going up by ``level``.
    """
    _, s, level, direction = block
    cuts = []
    for line in np.flatnonzero(a[:, s]):
        sigma = a[line, s] * direction
        members = [int(k) for k in np.flatnonzero(a[line]) if k != s]
        caps = [float(min(x[k], level)) if sigma * a[line, k] > 0 else level for k in members]
        cuts.append((members, caps, level))
    return cuts


def _solve(
    values: Sequence[np.ndarray],
    a: np.ndarray,
    fixed: np.ndarray,
    cost: np.ndarray,
    all_blocks: Sequence[_Block],
    blocks: Sequence[_Block],
    time_limit: float,
) -> tuple[np.ndarray, bool] | None:
    """One MILP: ``y`` with the capacity cuts of ``all_blocks`` and the deviation variables of ``blocks``."""
    size = fixed.size
    n_vars = size * (1 + len(blocks))
    full_cost = np.zeros(n_vars)
    full_cost[:size] = cost
    lb = np.zeros(n_vars)
    ub = np.ones(n_vars)
    lb[:size] = fixed.astype(float)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []

    def add(columns: Sequence[int], coefficients: Sequence[float], low: float, high: float) -> None:
        rows.extend([len(lower)] * len(columns))
        cols.extend(columns)
        vals.extend(coefficients)
        lower.append(low)
        upper.append(high)

    for block in all_blocks:
        for members, caps, level in _capacity_cuts(a, values[block[0]], block):
            add(members, caps, level, np.inf)
    for b, (t, s, level, direction) in enumerate(blocks):
        offset = size * (1 + b)
        x = values[t]
        lb[offset : offset + size] = -np.minimum(x, level)
        ub[offset : offset + size] = level
        if direction > 0:
            lb[offset + s] = level
        else:
            ub[offset + s] = -level
        for line in range(a.shape[0]):
            nonzero = np.flatnonzero(a[line])
            add([offset + int(k) for k in nonzero], list(a[line, nonzero]), 0.0, 0.0)
        for k in range(size):
            add([offset + k, k], [1.0, -level], -np.inf, 0.0)  # f_k <= level * y_k
            if x[k] > 0:
                add([offset + k, k], [-1.0, -float(min(x[k], level))], -np.inf, 0.0)  # f_k >= -min(x_k, level) y_k
    constraints = []
    if lower:
        matrix = csr_array(coo_array((vals, (rows, cols)), shape=(len(lower), n_vars)))
        constraints = [LinearConstraint(matrix, np.array(lower), np.array(upper))]
    integrality = np.zeros(n_vars, dtype=np.int64)
    integrality[:size] = 1
    res = milp(
        full_cost,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(lb, ub),
        options={"time_limit": max(time_limit, 0.01), "presolve": True, "mip_rel_gap": 0.9 / (size + 1)},
    )
    if res.x is None:
        return None
    return np.asarray(res.x)[:size] > 0.5, bool(res.status == 0)


def _violated(aug: np.ndarray, hidden: np.ndarray, lower: np.ndarray, upper: np.ndarray, t: int) -> list[_Block]:
    """Blocks of table ``t`` whose protection the pattern ``hidden`` does not give (by the LP audit)."""
    protected = [(int(i), int(j)) for i, j in zip(*np.nonzero((lower > 0) | (upper > 0)), strict=True)]
    lo, hi = flow_bounds(aug, hidden, protected)
    width = aug.shape[1]
    found: list[_Block] = []
    for e in protected:
        k = e[0] * width + e[1]
        if upper[e] > 0 and hi[e] < aug[e] + upper[e] - BOUND_TOLERANCE:
            found.append((t, k, float(upper[e]), 1))
        if lower[e] > 0 and lo[e] > aug[e] - lower[e] + BOUND_TOLERANCE:
            found.append((t, k, float(lower[e]), -1))
    return found


def optimal_pattern(
    augs: Sequence[np.ndarray],
    fixed: np.ndarray,
    protections: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    time_limit: float = 2.0,
) -> OptimalPattern | None:
    """Fewest hidden entries such that every protected entry of every table keeps its protection interval.

    One pattern ``y`` (1 = hidden) is shared by all tables ``augs`` (same shape). For every table ``t``,
    every protected entry ``s`` of ``t`` and each direction with a positive protection level, a continuous
    attacker deviation ``f`` must exist with ``A f = 0`` (every line still sums),
    ``-min(x_i, P) y_i <= f_i <= P y_i`` (only hidden entries move, and no count becomes negative) and
    ``f_s >= U_s`` or ``f_s <= -L_s``, where ``P`` is that protection level (a deviation decomposes into
    cycles of the line graph, and the cycles through ``s`` alone, scaled to ``P``, move no entry by more than
    ``P``: a valid and tight big-M). ``fixed`` entries (the primary suppressions) have ``y = 1``. The
    objective is the number of hidden entries, with a tie-break below 1 in total that prefers small values
    and avoids zeros (each zero is charged like the grand total); HiGHS's relative gap is set so that the
    number is proved minimal, the tie-break is best effort.

    The deviation variables are added lazily (the same model, solved in rounds): every round solves the
    MILP with the capacity cuts of all blocks and the deviation variables of the blocks found violated so
    far, and audits its pattern with :func:`flow_bounds`; a pattern that passes is optimal for the full
    model, since every earlier model is a relaxation of it.

    Returns ``None`` if HiGHS finds no feasible pattern within ``time_limit`` seconds.
    """
    start = time.perf_counter()
    shape = augs[0].shape
    a = line_matrix(shape[0] - 1, shape[1] - 1)
    size = shape[0] * shape[1]
    values = [aug.ravel().astype(float) for aug in augs]
    all_blocks: list[_Block] = []
    for t, (lower, upper) in enumerate(protections):
        all_blocks += [(t, int(k), float(upper.ravel()[k]), 1) for k in np.flatnonzero(upper.ravel() > 0)]
        all_blocks += [(t, int(k), float(lower.ravel()[k]), -1) for k in np.flatnonzero(lower.ravel() > 0)]
    grand = float(sum(v.sum() for v in values)) / 4.0  # the sum over tables of the grand totals
    total_value = sum(values)
    cost = 1.0 + np.where(total_value > 0, total_value, grand) / (size * (grand + 1.0) + 1.0)
    blocks: list[_Block] = []
    optimal = True
    while True:
        remaining = time_limit - (time.perf_counter() - start)
        solved = _solve(values, a, fixed.ravel(), cost, all_blocks, blocks, remaining)
        if solved is None:
            return None
        flat, proved = solved
        optimal &= proved
        hidden = (flat | fixed.ravel()).reshape(shape)
        violated = [
            block
            for t, (aug, (lower, upper)) in enumerate(zip(augs, protections, strict=True))
            for block in _violated(aug, hidden, lower, upper, t)
        ]
        if not violated:
            return OptimalPattern(hidden, optimal, time.perf_counter() - start)
        if remaining <= 0:
            return None
        blocks += [b for b in violated if b not in blocks]
