"""Benchmark: anonymous linkage of waves by self-generated code, on simulated waves with planted truth.

Run from the repository root::

    .venv/bin/python bench/linkage.py            # 10,000 people, 3 waves, 15% attrition
    .venv/bin/python bench/linkage.py --quick    # 2,000 people

It links each wave to the next twice (exact codes only; exact then one differing element), prints a
table of precision, recall and exact share per wave pair and method, and prints as its last line one
JSON object (precision and recall of the exact + one-difference method over all wave pairs).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from studyapp.participants.linkage import (  # noqa: E402
    link_waves,
    score_links,
    simulate_code_waves,
)

METHODS = {"exact": False, "exact+1": True}  # name -> allow_one_difference
POOLED = (
    "n_links",
    "n_correct_links",
    "n_true_pairs",
    "n_exact_true_pairs",
    "n_ambiguous_records",
    "n_fuzzy_links",
    "n_correct_fuzzy_links",
    "n_earlier",
    "n_later",
)


def _share(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4f}"


def _round(value: float) -> float | None:
    """Four decimals; ``None`` for an undefined ratio, so the JSON line stays valid JSON."""
    return None if math.isnan(value) else round(value, 4)


def run(n_people: int, n_waves: int, attrition: float, missing_rate: float, seed: int) -> dict[str, Any]:
    """Simulate, link and score; print the table and return the summary."""
    started = time.perf_counter()
    waves, truth = simulate_code_waves(n_people, n_waves, attrition=attrition, missing_rate=missing_rate, seed=seed)
    simulate_seconds = time.perf_counter() - started
    print(
        f"SGIC linkage: {n_people:,} people, {n_waves} waves, attrition {attrition:.0%} per later wave, "
        f"missing answers {missing_rate:.1%} per element, seed {seed}"
    )
    print(f"wave sizes: {', '.join(f'{len(wave):,}' for wave in waves)}; simulated in {simulate_seconds:.2f} s")
    print()
    header = (
        f"{'pair':<6} {'method':<8} {'links':>7} {'wrong':>6} {'precision':>9} {'recall':>7} "
        f"{'1-diff prec':>11} {'exact_share':>11} {'ambiguous':>9} {'seconds':>7}"
    )
    print(header)
    print("-" * len(header))
    pooled = {method: dict.fromkeys(POOLED, 0) for method in METHODS}
    link_seconds = {method: 0.0 for method in METHODS}
    for pair in range(n_waves - 1):
        for method, allow_one_difference in METHODS.items():
            tick = time.perf_counter()
            result = link_waves(waves[pair], waves[pair + 1], allow_one_difference=allow_one_difference)
            seconds = time.perf_counter() - tick
            link_seconds[method] += seconds
            score = score_links(result, truth)
            for key in POOLED:
                pooled[method][key] += score[key]
            print(
                f"{pair + 1}->{pair + 2:<3} {method:<8} {score['n_links']:>7,} {score['n_wrong_links']:>6,} "
                f"{score['precision']:>9.4f} {score['recall']:>7.4f} "
                f"{_fmt(_share(score['n_correct_fuzzy_links'], score['n_fuzzy_links'])):>11} "
                f"{score['exact_share']:>11.4f} "
                f"{score['ambiguous_share']:>9.2%} {seconds:>7.3f}"
            )
    print("-" * len(header))
    totals = {}
    for method, counts in pooled.items():
        totals[method] = {
            "precision": _share(counts["n_correct_links"], counts["n_links"]),
            "recall": _share(counts["n_correct_links"], counts["n_true_pairs"]),
            "exact_share": _share(counts["n_exact_true_pairs"], counts["n_true_pairs"]),
            "ambiguous_share": _share(counts["n_ambiguous_records"], counts["n_earlier"] + counts["n_later"]),
            "wrong": counts["n_links"] - counts["n_correct_links"],
            "fuzzy_precision": _share(counts["n_correct_fuzzy_links"], counts["n_fuzzy_links"]),
        }
        row = totals[method]
        print(
            f"{'all':<6} {method:<8} {counts['n_links']:>7,} {row['wrong']:>6,} {row['precision']:>9.4f} "
            f"{row['recall']:>7.4f} {_fmt(row['fuzzy_precision']):>11} {row['exact_share']:>11.4f} "
            f"{row['ambiguous_share']:>9.2%} "
            f"{link_seconds[method]:>7.3f}"
        )
    print()
    print(
        "precision = correct links / links made; recall = correct links / people in both waves; "
        "1-diff prec = precision of the one-difference links alone; exact_share = people in both waves "
        "giving identical codes; ambiguous = records reported "
        "to the researcher instead of linked (share of all records of the pair)."
    )
    best = totals["exact+1"]
    return {
        "precision": _round(best["precision"]),
        "recall": _round(best["recall"]),
        "one_difference_precision": _round(best["fuzzy_precision"]),
        "exact_only_precision": _round(totals["exact"]["precision"]),
        "exact_only_recall": _round(totals["exact"]["recall"]),
        "exact_share": _round(best["exact_share"]),
        "ambiguous_share": _round(best["ambiguous_share"]),
        "wrong_links": best["wrong"],
        "true_pairs": pooled["exact+1"]["n_true_pairs"],
        "n_people": n_people,
        "n_waves": n_waves,
        "attrition": attrition,
        "missing_rate": missing_rate,
        "seed": seed,
        "link_seconds": round(link_seconds["exact+1"], 3),
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 people instead of 10,000")
    parser.add_argument("--people", type=int, help="number of people (overrides --quick)")
    parser.add_argument("--waves", type=int, default=3, help="number of waves (default 3)")
    parser.add_argument("--attrition", type=float, default=0.15, help="share absent per later wave")
    parser.add_argument("--missing-rate", type=float, default=0.0, help="per-element share of unanswered questions")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    n_people = args.people if args.people is not None else (2_000 if args.quick else 10_000)
    if args.waves < 2:
        parser.error("--waves must be at least 2")
    summary = run(n_people, args.waves, args.attrition, args.missing_rate, args.seed)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
