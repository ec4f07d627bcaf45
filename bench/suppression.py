"""Benchmark: complementary cell suppression, the optimiser (MILP, HiGHS) against the classic heuristic.

    /work/main/.venv/bin/python bench/suppression.py [--quick] [--tables N] [--seed S]

Random briefing-shaped tables (1,000 by default, 100 with ``--quick``): an organisation of 20 to 400
people spread over 2 to 6 job types (rows) and 3 to 6 profiles (columns) with uneven shares (Dirichlet),
so that many cells hold fewer than 10 people; 70 % are single tables, 10 % one-row tables (a Series, as in
the profile counts of a briefing) and 20 % pairs of consecutive waves (the second wave re-draws a quarter
of the people), suppressed with ``suppress_consistently``. Every table is suppressed with
``method="heuristic"`` and with ``method="optimal"`` (``min_cell = 10``, totals published); hidden entries
are counted on the augmented table (cells and totals, one pattern per wave pair). The interval attack
(``interval_disclosures``, every wave of a pair) is run on both results.

Prints a summary, then as its last line one JSON object: tables, hidden_cells_heuristic,
hidden_cells_optimal, hidden_cells_ratio (optimiser / heuristic), hidden_cells_ratio_where_heuristic_safe
(the same over the tables whose heuristic pattern passes the interval audit), interval_disclosures (share
of tables the optimiser's output leaves a sensitive entry narrowed below its protection level: 0 by
construction), interval_disclosures_heuristic (the same for the heuristic), seconds_per_table (the
optimiser, audits included; target < 0.2), seconds_per_table_heuristic, not_proved_optimal (tables where
HiGHS hit its time limit).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.suppression import (  # noqa: E402
    SuppressedTable,
    interval_disclosures,
    suppress_consistently,
    suppress_table,
)

MIN_CELL = 10


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 tables instead of 1,000")
    parser.add_argument("--tables", type=int, default=None, help="number of tables (overrides --quick)")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def _people(rng: np.random.Generator, size: int, rows: int, cols: int) -> np.ndarray:
    """Job type and profile of ``size`` people, as an array of (row, column) pairs."""
    job_share = rng.dirichlet(np.full(rows, 1.5))
    profile_share = rng.dirichlet(np.full(cols, 1.2))
    return np.stack([rng.choice(rows, size=size, p=job_share), rng.choice(cols, size=size, p=profile_share)], 1)


def _crosstab(people: np.ndarray, rows: int, cols: int) -> pd.DataFrame:
    counts = np.zeros((rows, cols), dtype=np.int64)
    np.add.at(counts, (people[:, 0], people[:, 1]), 1)
    return pd.DataFrame(counts, index=[f"job{i}" for i in range(rows)], columns=[f"P{j}" for j in range(cols)])


def _cases(rng: np.random.Generator, count: int) -> list[tuple[str, list[pd.DataFrame] | pd.Series]]:
    cases: list[tuple[str, list[pd.DataFrame] | pd.Series]] = []
    for _ in range(count):
        size = int(rng.integers(20, 401))
        rows, cols = int(rng.integers(2, 7)), int(rng.integers(3, 7))
        kind = rng.choice(["single", "series", "pair"], p=[0.7, 0.1, 0.2])
        people = _people(rng, size, rows, cols)
        if kind == "series":
            one_row = np.stack([np.zeros(size, dtype=np.int64), people[:, 1]], axis=1)
            cases.append(("series", _crosstab(one_row, 1, cols).iloc[0].rename("organisation")))
        elif kind == "single":
            cases.append(("single", [_crosstab(people, rows, cols)]))
        else:
            later = people.copy()
            moved = rng.random(size) < 0.25
            later[moved] = _people(rng, int(moved.sum()), rows, cols)
            cases.append(("pair", [_crosstab(people, rows, cols), _crosstab(later, rows, cols)]))
    return cases


def _hidden(table: SuppressedTable) -> int:
    return int(
        table.mask.to_numpy().sum()
        + table.row_totals_hidden.sum()
        + table.column_totals_hidden.sum()
        + table.grand_total_hidden
    )


def _suppress(case: list[pd.DataFrame] | pd.Series, method: str) -> tuple[list[SuppressedTable], float]:
    start = time.perf_counter()
    if isinstance(case, pd.Series):
        out = [suppress_table(case, min_cell=MIN_CELL, method=method)]
    elif len(case) == 1:
        out = [suppress_table(case[0], min_cell=MIN_CELL, method=method)]
    else:
        out = suppress_consistently(case, min_cell=MIN_CELL, method=method)
    return out, time.perf_counter() - start


def main() -> None:
    args = _parse()
    count = args.tables if args.tables is not None else (100 if args.quick else 1000)
    rng = np.random.default_rng(args.seed)
    cases = _cases(rng, count)
    hidden = {"heuristic": 0, "optimal": 0}
    hidden_safe = {"heuristic": 0, "optimal": 0}
    leaky = {"heuristic": 0, "optimal": 0}
    seconds = {"heuristic": 0.0, "optimal": 0.0}
    not_proved = 0
    small_cells = 0
    for _, case in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = {method: _suppress(case, method) for method in ("heuristic", "optimal")}
        leaks = {}
        for method, (tables, elapsed) in results.items():
            seconds[method] += elapsed
            hidden[method] += _hidden(tables[0])
            leaks[method] = any(interval_disclosures(t, min_cell=MIN_CELL) for t in tables)
            leaky[method] += leaks[method]
        if not leaks["heuristic"]:
            for method, (tables, _) in results.items():
                hidden_safe[method] += _hidden(tables[0])
        optimal_tables = results["optimal"][0]
        not_proved += optimal_tables[0].method != "optimal" and bool(optimal_tables[0].mask.to_numpy().any())
        values = optimal_tables[0].counts.to_numpy()
        small_cells += int(((values > 0) & (values < MIN_CELL)).sum())
    kinds = pd.Series([kind for kind, _ in cases]).value_counts().to_dict()
    summary = {
        "tables": count,
        "kinds": {str(k): int(v) for k, v in kinds.items()},
        "small_cells_per_table": round(small_cells / count, 2),
        "hidden_cells_heuristic": hidden["heuristic"],
        "hidden_cells_optimal": hidden["optimal"],
        "hidden_cells_ratio": round(hidden["optimal"] / max(hidden["heuristic"], 1), 4),
        "hidden_cells_ratio_where_heuristic_safe": round(hidden_safe["optimal"] / max(hidden_safe["heuristic"], 1), 4),
        "interval_disclosures": round(leaky["optimal"] / count, 4),
        "interval_disclosures_heuristic": round(leaky["heuristic"] / count, 4),
        "seconds_per_table": round(seconds["optimal"] / count, 4),
        "seconds_per_table_heuristic": round(seconds["heuristic"] / count, 4),
        "not_proved_optimal": int(not_proved),
    }
    print(f"{count} tables ({summary['kinds']}), {summary['small_cells_per_table']} cells under {MIN_CELL} each")
    print(f"{'':12}{'hidden':>10}{'leaky share':>14}{'s/table':>10}")
    for method in ("heuristic", "optimal"):
        print(f"{method:12}{hidden[method]:>10}{leaky[method] / count:>14.3f}{seconds[method] / count:>10.4f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
