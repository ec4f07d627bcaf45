"""Starting values and the search over them for :class:`analysis.lpa.LatentProfileModel`.

Random starts (k-means++, random partitions, random posteriors), user-given starts, EM over all of them
with the ridge scaled to the data, starts that adapt (doubling until the best regular solution is
replicated), the spurious-solution guard applied to every start, and the final unregularised iterations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from analysis.lpa.categorical_items import given_probabilities
from analysis.lpa.em import (
    _Data,
    _EMResult,
    _m_step,
    _Params,
    _params_from_centres,
    _partition_space,
    _random_centres,
    _random_resp_params,
    _run_em,
)
from analysis.lpa.guard import spurious_reasons
from analysis.mixture import kmeans_centres as _kmeans_centres


def _failed_run(n_starts: int, like: _Params) -> _EMResult:
    """The record of a batch of starts that all failed."""
    nan = _Params.missing(n_starts, like)
    none = np.zeros(n_starts, dtype=bool)
    return _EMResult(
        nan.take(np.array([0])),
        0,
        -np.inf,
        np.full(n_starts, -np.inf),
        np.zeros(n_starts, dtype=int),
        none,
        none,
        ~none,
        nan,
    )


class _StartsMixin:
    """The search for the maximum likelihood (mixed into :class:`~analysis.lpa.LatentProfileModel`)."""

    n_kmeans_starts: int | None
    n_final_starts: int | None
    n_init_iter: int
    max_iter: int
    tol: float
    reg_covar: float
    replication_tol: float
    max_starts: int | None
    min_profile_share: float
    accelerate: bool

    def _starting_values(
        self, data: _Data, parameterisation: str, k: int, n_random: int, rng: np.random.Generator
    ) -> _Params:
        if k == 1:
            params, _ = _m_step(data, np.ones((1, 1, data.n)), parameterisation, self._ridge(data))
            return params
        n_kmeans = self.n_kmeans_starts
        n_kmeans = max(1, round(n_random / 10)) if n_kmeans is None else int(n_kmeans)
        n_kmeans = min(max(n_kmeans, 0), n_random)
        parts = []
        if n_kmeans:
            centres = _kmeans_centres(_partition_space(data), k, n_kmeans, rng)
            parts.append(_params_from_centres(data, centres, parameterisation, self._ridge(data)))
        n_partitions = (n_random - n_kmeans) // 2
        if n_partitions:
            centres = _random_centres(_partition_space(data), k, n_partitions, rng)
            parts.append(_params_from_centres(data, centres, parameterisation, self._ridge(data)))
        n_posteriors = n_random - n_kmeans - n_partitions
        if n_posteriors:
            parts.append(_random_resp_params(data, k, n_posteriors, rng, parameterisation, self._ridge(data)))
        return _Params.concat(parts)

    def _internal(self, given: Mapping[str, Any], data: _Data, parameterisation: str, k: int) -> _Params:
        """User-given parameters (public shapes, original scale) as one internal start."""
        d = data.d
        weights = np.asarray(given["weights"], dtype=float).reshape(k)
        means = np.asarray(given.get("means", np.zeros((k, 0))) if d else np.zeros((k, 0)), dtype=float)
        means = means.reshape(k, d) - data.center
        cov = np.asarray(given.get("covariances") if d else np.zeros(0), dtype=float)
        shapes = {"EEI": (d,), "VVI": (k, d), "EEE": (d, d), "VVV": (k, d, d)}
        expected = shapes[parameterisation]
        if cov.shape != expected:
            raise ValueError(f"covariances for {parameterisation} must have shape {expected}, got {cov.shape}.")
        if parameterisation == "EEI":
            cov = cov[None, :]
        elif parameterisation == "EEE":
            cov = cov[None, :, :]
        if weights.min() <= 0:
            raise ValueError("Every starting weight must be positive.")
        probs = given_probabilities(given, data, k)
        return _Params((weights / weights.sum())[None], means[None], cov[None].copy(), probs)

    def _search(
        self,
        data: _Data,
        first: _Params,
        parameterisation: str,
        k: int,
        n_random: int,
        rng: np.random.Generator,
        guarded: list[str],
    ) -> tuple[_EMResult, list[str]]:
        """EM from the first starts, then starts that adapt; every start's result and why it is spurious."""
        result = self._run(data, first, parameterisation, self._final_starts(n_random, n_random))
        spurious = self._spurious(result, data, parameterisation, guarded)
        # Starts that adapt: while the best regular solution is not replicated, add as many random starts
        # as have been run (doubling), up to max_starts, screened as the first ones.
        added, cap = n_random, self._max_starts(n_random)
        while k > 1 and 0 < added < cap and not self._replicated(result, spurious):
            more = min(added, cap - added)
            try:
                batch = self._run(
                    data,
                    self._starting_values(data, parameterisation, k, more, rng),
                    parameterisation,
                    self._final_starts(n_random, more),
                )
            except RuntimeError:  # every added start failed; they count as run
                batch = _failed_run(more, first)
            result = _EMResult.concat([result, batch])
            spurious += self._spurious(batch, data, parameterisation, guarded)
            added += more
        return result, spurious

    def _final_starts(self, n_random: int, batch: int) -> int | None:
        """How many of a batch of ``batch`` random starts (and the given ones, in the first batch) are
        iterated to convergence: ``n_final_starts`` per ``n_starts``, by default a quarter, at least two;
        all of them (None) when there are no random starts (only given ones) or ``n_final_starts`` is at
        least ``n_starts``."""
        if n_random == 0 or (self.n_final_starts is not None and int(self.n_final_starts) >= n_random):
            return None
        share = 0.25 if self.n_final_starts is None else int(self.n_final_starts) / n_random
        return max(2, round(share * batch))

    def _max_starts(self, n_random: int) -> int:
        """The cap on random starts: ``max_starts``, by default twice ``n_starts`` (one doubling)."""
        return 2 * n_random if self.max_starts is None else max(int(self.max_starts), n_random)

    def _run(
        self, data: _Data, start: _Params, parameterisation: str, n_final: int | None, **overrides: Any
    ) -> _EMResult:
        """EM from ``start`` with this model's settings (``overrides`` replace some, e.g. ``reg_covar``)."""
        n_total = start.n_starts
        settings: dict[str, Any] = {
            "n_final": n_total if n_final is None else min(max(int(n_final), 1), n_total),
            "n_init_iter": int(self.n_init_iter),
            "max_iter": int(self.max_iter),
            "tol": float(self.tol),
            "reg_covar": self._ridge(data),
            "accelerate": bool(self.accelerate),
        }
        return _run_em(data, start, parameterisation, **{**settings, **overrides})

    def _ridge(self, data: _Data) -> np.ndarray:
        """The ridge of the search: ``reg_covar`` times each indicator's overall variance."""
        return np.asarray(float(self.reg_covar) * np.maximum(data.scale, 1e-300))

    def _spurious(self, result: _EMResult, data: _Data, parameterisation: str, names: list[str]) -> list[str]:
        usable = result.completed & ~result.failed & np.isfinite(result.logliks)
        return spurious_reasons(
            result.finals, usable, data, parameterisation, names, min_share=float(self.min_profile_share)
        )

    def _replicated(self, result: _EMResult, spurious: list[str]) -> bool:
        """Whether at least two regular starts reached the best regular log-likelihood."""
        regular = result.completed & ~result.failed & (np.array(spurious) == "")
        if not regular.any():
            return False
        lls = result.logliks[regular]
        return int((lls >= lls.max() - self.replication_tol).sum()) >= 2

    def _unregularised(self, data: _Data, params: _Params, parameterisation: str, names: list[str]) -> _Params:
        """EM from the chosen solution without the ridge, so that the reported estimates and log-likelihood
        are those of the model itself; the regularised solution is kept if that ends spurious or fails."""
        if not self.reg_covar > 0:
            return params
        try:
            polished = self._run(data, params, parameterisation, None, reg_covar=0.0)
        except RuntimeError:
            return params
        if self._spurious(polished, data, parameterisation, names)[0]:
            return params
        return polished.best
