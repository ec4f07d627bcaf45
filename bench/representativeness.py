"""Benchmark: reminders targeted at lagging categories against the same budget spread evenly.

Run from the repository root::

    .venv/bin/python bench/representativeness.py            # full: 40 replications, 5 budgets
    .venv/bin/python bench/representativeness.py --quick    # under a minute: 5 replications, 2 budgets

Each replication simulates a wave of 5,000 invited alumni with three auxiliaries (institution: wo, hbo or
unknown; graduation cohort, 4 groups; gender). The response to the invitation is logistic in them, with
two planted lagging categories (hbo, the 2010-2013 cohort). A reminder then converts a non-respondent
with a probability that differs by category (the planted reminder effect: hbo graduates answer
reminders well, the oldest cohort and the unknown institution poorly). With the R-indicator of the
response so far (200 bootstrap replicates), the same budget of reminders goes (a) to non-respondents drawn
uniformly at random and (b) to the people :func:`plan_targeted_reminders` chooses (whole lagging
categories, most lagging first, never split). Both arms use the same random numbers for who answers a
reminder. Reported: the R-indicator (plug-in) and the response rate after each arm, and the messages each
arm sent; the uniform arm always sends the whole budget, the targeted arm at most the budget (whole
categories only, so a budget smaller than the lagging categories leaves most of it unspent).

A scale line follows: the seconds of one R-indicator with 200 bootstrap replicates on the study's seven
auxiliaries (institution, programme, cohort, gender, profile, work, intention; 3 x 20 x 5 x 3 x 7 x 4 x 3
categories drawn at random, so nearly every person is a cell of their own: the worst case for cell
aggregation) for 100,000 people (20,000 with ``--quick``).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.representativeness import plan_targeted_reminders, r_indicator  # noqa: E402

N = 5000
AUXILIARIES = ["institution", "cohort", "gender"]
INSTITUTION = {"wo": (0.50, 0.0), "hbo": (0.45, -0.9), "unknown": (0.05, -0.5)}  # share, log-odds
COHORT = {"2010-2013": (0.25, -1.0), "2014-2016": (0.25, 0.0), "2017-2019": (0.25, 0.1), "2020-2022": (0.25, 0.2)}
GENDER = {"man": (0.78, 0.0), "woman": (0.22, 0.2)}
RESPONSE_INTERCEPT = -0.2
# the planted reminder effect: log-odds that a reminded non-respondent answers
REMINDER_INTERCEPT = -1.5
REMINDER = {
    "institution": {"wo": 0.0, "hbo": 0.4, "unknown": -0.6},
    "cohort": {"2010-2013": -0.3, "2014-2016": 0.0, "2017-2019": 0.0, "2020-2022": 0.1},
    "gender": {"man": 0.0, "woman": 0.2},
}
MAIN_BUDGET = 1500
COLUMNS = (
    "budget",
    "r_before",
    "r_uniform",
    "r_targeted",
    "rate_before",
    "rate_uniform",
    "rate_targeted",
    "messages_uniform",
    "messages_targeted",
    "categories",
)


def simulate(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Return a frame with the response to the invitation, and each person's chance to answer a reminder."""
    frame = pd.DataFrame(index=pd.Index([f"P{i:05d}" for i in range(N)], name="pseudonym"))
    logit = np.full(N, RESPONSE_INTERCEPT)
    reminder_logit = np.full(N, REMINDER_INTERCEPT)
    for name, table in (("institution", INSTITUTION), ("cohort", COHORT), ("gender", GENDER)):
        labels = list(table)
        codes = rng.choice(len(labels), N, p=[table[label][0] for label in labels])
        frame[name] = np.asarray(labels, dtype=object)[codes]
        logit += np.asarray([table[label][1] for label in labels])[codes]
        reminder_logit += np.asarray([REMINDER[name][label] for label in labels])[codes]
    frame["responded"] = rng.random(N) < 1 / (1 + np.exp(-logit))
    return frame, 1 / (1 + np.exp(-reminder_logit))


def run_one(seed: int, budgets: list[int]) -> list[dict[str, Any]]:
    """One replication: the R-indicator before reminders and after each arm, for every budget."""
    rng = np.random.default_rng(seed)
    frame, answers_reminder = simulate(rng)
    converts = rng.random(N) < answers_reminder  # common random numbers for both arms
    before = r_indicator(frame, "responded", AUXILIARIES, random_state=seed)
    nonrespondents = frame[~frame["responded"]]
    rows = []
    for budget in budgets:
        uniform = rng.choice(nonrespondents.index.to_numpy(), size=min(budget, len(nonrespondents)), replace=False)
        decision = plan_targeted_reminders(before, nonrespondents, budget)
        after = {}
        for arm, people in (("uniform", list(uniform)), ("targeted", decision.people)):
            reminded = frame.index.isin(people)
            final = frame.assign(responded=frame["responded"].to_numpy() | (reminded & converts))
            after[arm] = r_indicator(final, "responded", AUXILIARIES, bootstrap=0)
        rows.append(
            {
                "budget": budget,
                "r_before": round(before.r, 4),
                "r_uniform": round(after["uniform"].r, 4),
                "r_targeted": round(after["targeted"].r, 4),
                "rate_before": round(before.response_rate, 4),
                "rate_uniform": round(after["uniform"].response_rate, 4),
                "rate_targeted": round(after["targeted"].response_rate, 4),
                "messages_uniform": len(uniform),
                "messages_targeted": decision.messages,
                "categories": "+".join(f"{v}={c}" for v, c in decision.categories) or "-",
            }
        )
    return rows


def scale_seconds(n: int, seed: int) -> tuple[float, int]:
    """Seconds for one R-indicator (200 bootstrap replicates) of ``n`` people on the study's seven auxiliaries."""
    rng = np.random.default_rng(seed)
    sizes = {"institution": 3, "programme": 20, "cohort": 5, "gender": 3, "profile": 7, "work": 4, "intention": 3}
    frame = pd.DataFrame({name: rng.integers(0, k, n).astype(str) for name, k in sizes.items()})
    logit = -0.5 + 0.3 * (frame["institution"] == "1") - 0.4 * (frame["cohort"] == "0") + 0.05 * rng.standard_normal(n)
    frame["responded"] = rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))
    start = time.perf_counter()
    result = r_indicator(frame, "responded", list(sizes), random_state=seed)
    cells = int(frame.groupby(list(sizes)).ngroups)
    assert np.isfinite(result.r_se)
    return time.perf_counter() - start, cells


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 replications, 2 budgets")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    replications = 5 if args.quick else 40
    budgets = [750, MAIN_BUDGET] if args.quick else [500, 1000, MAIN_BUDGET, 2000, 3000]

    rows = [row for r in range(replications) for row in run_one(args.seed + r, budgets)]
    table = pd.DataFrame(rows)
    numeric = [c for c in COLUMNS if c != "categories"]
    summary = table.groupby("budget")[numeric[1:]].mean()
    print(f"{replications} replications, N = {N}, auxiliaries {', '.join(AUXILIARIES)}; means over replications")
    print(summary.to_string(float_format=lambda x: f"{x:.4f}"))
    print("\nTargeted categories (replications):")
    for budget in budgets:
        counts = table[table["budget"] == budget]["categories"].value_counts()
        print(f"  budget {budget}: " + "; ".join(f"{k} ({v})" for k, v in counts.items()))

    scale_n = 20_000 if args.quick else 100_000
    seconds, cells = scale_seconds(scale_n, args.seed)
    print(
        f"\nScale: one R-indicator of {scale_n} people, 7 auxiliaries ({cells} cells), 200 replicates: {seconds:.2f} s"
    )

    main_rows = table[table["budget"] == MAIN_BUDGET]
    result = {
        "r_indicator_uniform": round(float(main_rows["r_uniform"].mean()), 4),
        "r_indicator_targeted": round(float(main_rows["r_targeted"].mean()), 4),
        "r_indicator_before": round(float(main_rows["r_before"].mean()), 4),
        "messages": MAIN_BUDGET,
        "messages_uniform": round(float(main_rows["messages_uniform"].mean()), 1),
        "messages_targeted": round(float(main_rows["messages_targeted"].mean()), 1),
        "response_rate_uniform": round(float(main_rows["rate_uniform"].mean()), 4),
        "response_rate_targeted": round(float(main_rows["rate_targeted"].mean()), 4),
        "targeted_better": int((main_rows["r_targeted"] > main_rows["r_uniform"]).sum()),
        "replications": replications,
        "n": N,
        "quick": args.quick,
        "scale_n": scale_n,
        "scale_cells": cells,
        "scale_seconds": round(seconds, 2),
        "seconds": round(time.perf_counter() - t0, 1),
        "by_budget": {
            str(budget): {key: round(float(value), 4) for key, value in summary.loc[budget].items()}
            for budget in budgets
        },
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
