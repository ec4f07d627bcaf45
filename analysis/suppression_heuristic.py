"""The classic complementary-suppression heuristic on augmented tables (arrays only).

Kept for comparison with the optimiser of :mod:`analysis.suppression_optimal` (``method="heuristic"`` of
:func:`analysis.suppression.suppress_table`) and as its fallback: every line holding a hidden entry gets a
second one (the smallest non-zero shown cell, else the line's total), iterated until stable, and every
sensitive hidden entry that is a bridge of the line graph (uniquely determined) is closed into a cycle by
the cheapest path of shown entries. Safe against exact recovery only; see :mod:`analysis.suppression`.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence

import numpy as np

__all__ = ["close_bridges", "complete", "heuristic_pattern", "sensitive_entries", "two_per_line"]


def _lines(m: int, n: int) -> list[list[tuple[int, int]]]:
    """Every row and column of the augmented table; the last entry of each line is its total."""
    rows = [[(i, j) for j in range(n + 1)] for i in range(m + 1)]
    cols = [[(i, j) for i in range(m + 1)] for j in range(n + 1)]
    return rows + cols


def two_per_line(aug: np.ndarray, hidden: np.ndarray) -> None:
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


def close_bridges(aug: np.ndarray, hidden: np.ndarray, sensitive: np.ndarray) -> None:
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


def sensitive_entries(primary: np.ndarray, totals: bool) -> np.ndarray:
    """Entries that must not be derivable: every interior cell, and the primarily suppressed totals."""
    m, n = primary.shape[0] - 1, primary.shape[1] - 1
    sensitive = np.zeros(primary.shape, dtype=bool)
    sensitive[:m, :n] = True
    if totals:
        sensitive[:m, n] = primary[:m, n]
        sensitive[m, :] = primary[m, :]
    return sensitive


def complete(aug: np.ndarray, hidden: np.ndarray, sensitive: np.ndarray, totals: bool) -> np.ndarray:
    """Complementary suppression starting from ``hidden``; returns a new array."""
    hidden = hidden.copy()
    if totals and not hidden.all():
        two_per_line(aug, hidden)
        close_bridges(aug, hidden, sensitive)
    return hidden


def heuristic_pattern(augs: Sequence[np.ndarray], primary: np.ndarray, totals: bool) -> np.ndarray:
    """The classic heuristic on one shared pattern: complete for each table, unite, until stable."""
    union = primary.copy()
    sensitive = sensitive_entries(primary, totals)
    while True:
        new = np.logical_or.reduce([complete(a, union, sensitive, totals) for a in augs])
        if (new == union).all():
            return union
        union = new
