"""Benchmark: latent profile enumeration (VVI, K = 1..8) against StepMix on the same data in the same run.

Run from the repository root::

    .venv/bin/python bench/lpa.py            # N = 2,000 x 25 indicators, K = 1..8, 20 starts per K
    .venv/bin/python bench/lpa.py --quick    # N = 1,000 x 15 indicators, K = 1..5, 10 starts per K

The data are simulated from four profiles with profile-specific variances. For every K it fits

* StepMix ``measurement="gaussian_diag"`` with ``n_init`` starts (random posteriors, its default),
* ours, with its defaults: ``enumerate_profiles(X, range(1, K + 1), ["VVI"], n_starts=starts, bootstrap=0)``,
  timed as a whole: per K the same number of random starts as StepMix and the starts grown from the
  K - 1 solution (each profile split, small new profiles at the worst-fitting rows), all screened by 10 EM
  iterations, the best quarter of ``starts`` iterated to convergence (Mplus's ``STARTS = 20 5``), as many
  random starts again (screened the same way) where the best solution is not replicated, and, going
  back down, the K + 1 solution with one profile left out; the spurious-solution guard is always on,
* ours, more starts: the same with ``n_starts=4 * starts, n_final_starts=starts``, four times as many sets
  of starting values, of which as many as StepMix's are iterated to convergence (``STARTS = 80 20``),
* both from identical starting values: ``starts`` sets of random posterior probabilities (StepMix's own
  kind of start, turned into parameters by one M-step, equal weights) given to StepMix (through a small
  subclass that replaces its random initialisation) and to ours (``init_params``, ``n_starts=0``); this
  separates the speed and convergence of the EM from the luck of the random starts,
* scikit-learn's ``GaussianMixture(covariance_type="diag", n_init=starts)`` with its default tolerance,
* R's mclust, when ``Rscript`` with mclust is installed: ``Mclust(X, G = K range, modelNames = "VVI")``
  (its hierarchical start), timed inside R around that one call; its log-likelihood per K comes from
  the BIC table it returns (``LL = (BIC + p ln n) / 2``),

ours (with its defaults) and mclust each run ``--repeats`` times (default 3), and the fastest run of each
is the one compared (as ``timeit`` does: the slower ones measure the machine's other work). It prints a
table of log-likelihoods and seconds per K. The last line is one JSON object;
``time_ratio_vs_stepmix`` and ``loglik_gap_vs_stepmix`` (the smallest over K of ours minus StepMix's
log-likelihood, in points) refer to the default configuration; ``*_screened`` keys to the one with more starts;
``time_ratio_vs_mclust`` and ``loglik_gap_vs_mclust`` compare the default configuration (with the
spurious-solution guard and starts that adapt, as always) with mclust (null without R).

BLAS runs single-threaded by default (``--blas-threads``) for every estimator alike: the matrices are
small, and on a shared two-core machine a second BLAS thread mostly waits.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1,000 x 15, K = 1..5, 10 starts")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--blas-threads", type=int, default=1, help="threads for BLAS (0: leave as is)")
    parser.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn's GaussianMixture")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of ours (defaults) and of mclust; the fastest of each is kept"
    )
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None and ARGS.blas_threads > 0:
    # Must be set before numpy loads its BLAS.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(ARGS.blas_threads)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.lpa import LatentProfileModel, enumerate_profiles  # noqa: E402


def simulate(n: int, d: int, seed: int) -> pd.DataFrame:
    """Four profiles (shares .35/.30/.20/.15), means N(0, 1) per indicator, SDs uniform on [0.6, 1.2]."""
    rng = np.random.default_rng(seed)
    weights = np.array([0.35, 0.30, 0.20, 0.15])
    means = rng.normal(0.0, 1.0, size=(4, d))
    sds = rng.uniform(0.6, 1.2, size=(4, d))
    labels = rng.choice(4, size=n, p=weights)
    values = means[labels] + sds[labels] * rng.standard_normal((n, d))
    return pd.DataFrame(values, columns=[f"item_{j + 1}" for j in range(d)])


def random_posterior_starts(values: np.ndarray, k: int, count: int, seed: int) -> list[dict]:
    """StepMix's random start (uniform posteriors, then an M-step with reg_covar 1e-6, equal weights)."""
    rng = np.random.default_rng(seed)
    starts = []
    for _ in range(count):
        resp = rng.random((values.shape[0], k))
        resp /= resp.sum(axis=1, keepdims=True)
        size = resp.sum(axis=0)
        means = resp.T @ values / size[:, None]
        variances = resp.T @ values**2 / size[:, None] - means**2 + 1e-6
        starts.append({"weights": np.full(k, 1.0 / k), "means": means, "covariances": variances})
    return starts


def stepmix_from_starts(starts: list[dict]):
    """A StepMix subclass whose successive initialisations are the given parameters."""
    from stepmix import StepMix

    class StepMixFromStarts(StepMix):
        def _initialize_parameters(self, X, random_state):  # noqa: N803 (StepMix's signature)
            start = starts[len(self.lower_bound_buffer_)]
            self.weights_ = start["weights"].copy()
            self._initialize_parameters_measurement(X, random_state, init_emission=False)
            self._mm.set_parameters({"means": start["means"].copy(), "covariances": start["covariances"].copy()})
            self.log_resp_ = np.zeros((X.shape[0], self.n_components))

    return StepMixFromStarts


MCLUST = """
suppressPackageStartupMessages(library(mclust))
x <- as.matrix(read.csv("{data}"))
seconds <- Inf
for (i in seq_len({repeats})) seconds <- min(seconds, system.time(
  fit <- Mclust(x, G = {g_min}:{g_max}, modelNames = "VVI", verbose = FALSE))[["elapsed"]])
bic <- fit$BIC[, "VVI"]
g <- as.integer(names(bic))
p <- sapply(g, function(k) nMclustParams("VVI", ncol(x), k))
cat("seconds", seconds, "\\n")
cat("loglik", sprintf("%.6f", (bic + p * log(nrow(x))) / 2), "\\n")
"""


def mclust_fit(frame: pd.DataFrame, ks: list[int], repeats: int = 1) -> tuple[dict[int, float], float] | None:
    """R's mclust on the same data: log-likelihood per K and the seconds of the Mclust call, the fastest of
    ``repeats`` runs (None without R)."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.csv"
        frame.to_csv(path, index=False)
        script = MCLUST.format(data=path, g_min=ks[0], g_max=ks[-1], repeats=repeats)
        done = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"mclust not run: {done.stderr.strip()[-200:]}")
        return None
    lines = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line.strip()}
    logliks = [float(v) if v != "NA" else float("nan") for v in lines["loglik"]]
    return dict(zip(ks, logliks, strict=True)), float(lines["seconds"][0])


def _timed(fit):
    start = time.perf_counter()
    loglik = fit()
    return loglik, time.perf_counter() - start


def run(n: int, d: int, ks: list[int], starts: int, seed: int, with_sklearn: bool, repeats: int = 1) -> dict:
    from stepmix import StepMix

    frame = simulate(n, d, seed)
    values = frame.to_numpy()
    rows = []

    def enumerate_ours(screened: bool):
        extra = {"n_starts": 4 * starts, "n_final_starts": starts} if screened else {"n_starts": starts}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            began = time.perf_counter()
            table = enumerate_profiles(frame, ks, ["VVI"], bootstrap=0, random_state=seed, **extra).to_frame()
            seconds = time.perf_counter() - began
        return table.loc["VVI", "loglik"].to_dict(), seconds

    runs = [enumerate_ours(False) for _ in range(max(repeats, 1))]
    ours, seconds_ours = runs[0][0], min(seconds for _, seconds in runs)
    assert all(again == ours for again, _ in runs), "the same seed must give the same enumeration"
    screened, seconds_screened = enumerate_ours(True)
    print(f"ours: enumeration K = {ks[0]}..{ks[-1]} in {seconds_ours:.2f} s; more starts {seconds_screened:.2f} s")
    mclust = mclust_fit(frame, ks, repeats)
    if mclust is not None:
        print(f"mclust: Mclust(G = {ks[0]}:{ks[-1]}, 'VVI') in {mclust[1]:.2f} s", flush=True)
    for k in ks:

        def stepmix_fit(k=k):
            model = StepMix(n_components=k, measurement="gaussian_diag", n_init=starts, random_state=seed + k)
            model.set_params(progress_bar=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(frame)
            return model.score(frame) * n

        def sklearn_fit(k=k):
            from sklearn.mixture import GaussianMixture

            model = GaussianMixture(k, covariance_type="diag", n_init=starts, random_state=seed + k)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(values)
            return model.score(values) * n

        def same_starts(k=k):
            starts_k = random_posterior_starts(values, k, starts, seed + 100 + k)
            reference = stepmix_from_starts(starts_k)(n_components=k, measurement="gaussian_diag", n_init=starts)
            reference.set_params(progress_bar=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                began = time.perf_counter()
                reference.fit(frame)
                seconds_reference = time.perf_counter() - began
                ll_reference = reference.score(frame) * n
                began = time.perf_counter()
                ours = LatentProfileModel(k, "VVI", n_starts=0, init_params=starts_k).fit(frame)
                seconds_ours = time.perf_counter() - began
            return ll_reference, seconds_reference, ours.loglik_, seconds_ours

        row = {"k": k}
        row["stepmix"], row["s_stepmix"] = _timed(stepmix_fit)
        row["ours"], row["screened"] = ours[k], screened[k]
        if mclust is not None:
            row["mclust"] = mclust[0][k]
        row["same_stepmix"], row["s_same_stepmix"], row["same_ours"], row["s_same_ours"] = same_starts()
        if with_sklearn:
            row["sklearn"], row["s_sklearn"] = _timed(sklearn_fit)
        rows.append(row)
        print(
            f"K={k}: StepMix {row['stepmix']:.3f} ({row['s_stepmix']:.2f} s)  ours {row['ours']:.3f}  "
            f"screened {row['screened']:.3f}  "
            f"same starts: StepMix {row['same_stepmix']:.3f} ({row['s_same_stepmix']:.2f} s) ours "
            f"{row['same_ours']:.3f} ({row['s_same_ours']:.2f} s)",
            flush=True,
        )
    return {
        "rows": rows,
        "n": n,
        "d": d,
        "ks": ks,
        "starts": starts,
        "seconds_ours": seconds_ours,
        "seconds_screened": seconds_screened,
        "seconds_mclust": None if mclust is None else mclust[1],
        "repeats": max(repeats, 1),
    }


def report(result: dict, blas_threads: int) -> dict:
    table = pd.DataFrame(result["rows"]).set_index("k")
    table["gap_ours"] = table["ours"] - table["stepmix"]
    table["gap_screened"] = table["screened"] - table["stepmix"]
    table["gap_same"] = table["same_ours"] - table["same_stepmix"]
    if "sklearn" in table:
        table["gap_sklearn"] = table["sklearn"] - table["stepmix"]
    starts = result["starts"]
    print()
    print(
        f"N = {result['n']} x {result['d']} indicators, VVI, K = {result['ks'][0]}..{result['ks'][-1]}; "
        f"StepMix n_init={starts}; ours n_starts={starts}; screened n_starts={4 * starts}, "
        f"n_final_starts={starts}"
    )
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(table.to_string())
    seconds = {"ours": result["seconds_ours"], "stepmix": float(table["s_stepmix"].sum())}
    summary = {
        "time_ratio_vs_stepmix": round(seconds["ours"] / seconds["stepmix"], 4),
        "loglik_gap_vs_stepmix": round(float(table["gap_ours"].min()), 6),
        "k_worse_than_stepmix": [int(k) for k, gap in table["gap_ours"].items() if gap < -1e-3],
        "k_better_than_stepmix": [int(k) for k, gap in table["gap_ours"].items() if gap > 1e-3],
        "seconds_ours": round(seconds["ours"], 3),
        "seconds_stepmix": round(seconds["stepmix"], 3),
        "time_ratio_screened_vs_stepmix": round(result["seconds_screened"] / seconds["stepmix"], 4),
        "loglik_gap_screened_vs_stepmix": round(float(table["gap_screened"].min()), 6),
        "seconds_ours_screened": round(result["seconds_screened"], 3),
        "time_ratio_same_starts": round(float(table["s_same_ours"].sum() / table["s_same_stepmix"].sum()), 4),
        "loglik_gap_same_starts": round(float(table["gap_same"].min()), 6),
        "loglik_ours": {int(k): round(float(v), 4) for k, v in table["ours"].items()},
        "loglik_stepmix": {int(k): round(float(v), 4) for k, v in table["stepmix"].items()},
        "loglik_ours_screened": {int(k): round(float(v), 4) for k, v in table["screened"].items()},
        "seconds_per_k_stepmix": {int(k): round(float(v), 3) for k, v in table["s_stepmix"].items()},
        "n": result["n"],
        "d": result["d"],
        "k_max": result["ks"][-1],
        "stepmix_starts": starts,
        "ours_starts": f"enumerate_profiles' defaults: {starts} random starts per K and the starts grown from "
        f"K - 1, screened by 10 EM iterations, {max(2, round(starts / 4))} to convergence, doubled once where the "
        "best is not replicated; the starts pruned from K + 1",
        "screened_starts": f"{4 * starts} screened by 10 EM iterations, {starts} to convergence",
        "blas_threads": blas_threads or "default",
        "repeats": result["repeats"],
    }
    summary["time_ratio_vs_mclust"] = summary["loglik_gap_vs_mclust"] = None
    if result["seconds_mclust"] is not None:
        table["gap_mclust"] = table["ours"] - table["mclust"]
        summary["time_ratio_vs_mclust"] = round(seconds["ours"] / result["seconds_mclust"], 4)
        summary["loglik_gap_vs_mclust"] = round(float(table["gap_mclust"].min()), 6)
        summary["seconds_mclust"] = round(result["seconds_mclust"], 3)
        summary["loglik_mclust"] = {int(k): round(float(v), 4) for k, v in table["mclust"].items()}
        summary["k_worse_than_mclust"] = [int(k) for k, gap in table["gap_mclust"].items() if gap < -1e-2]
    if "sklearn" in table:
        summary["seconds_sklearn"] = round(float(table["s_sklearn"].sum()), 3)
        summary["loglik_gap_sklearn_vs_stepmix"] = round(float(table["gap_sklearn"].min()), 4)
    return summary


def main() -> None:
    args = ARGS or _parse()
    if args.quick:
        result = run(1000, 15, list(range(1, 6)), 10, args.seed, not args.no_sklearn, args.repeats)
    else:
        result = run(2000, 25, list(range(1, 9)), 20, args.seed, not args.no_sklearn, args.repeats)
    print(json.dumps(report(result, args.blas_threads)))


if __name__ == "__main__":
    main()
