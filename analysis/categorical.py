"""Categorical indicators shared by the latent profile and latent transition models.

A categorical (binary, ordinal treated as nominal, or nominal) indicator ``j`` with categories
``1..C_j`` has, within profile ``k``, probabilities ``p_kjc`` that sum to one over ``c``. Categorical
items are independent of each other and of the continuous indicators within a profile (local
independence, as in latent class analysis: Goodman 1974; Vermunt & Magidson 2002; poLCA, Linzer &
Lewis 2011; StepMix's ``"categorical"`` measurement, Morin et al. 2025).

Each item is one-hot coded (a row's block of ``C_j`` columns holds a single 1); a missing value is an
all-zero block, so the item drops out of that row's likelihood (full information maximum likelihood under
missing at random). The log-density is then linear, ``onehot @ log(p).T``, and fits the batched E-steps
of both models; the M-step is ``p_kjc = sum_i r_ik y_ijc / sum_i r_ik o_ij`` with ``o_ij`` whether item
``j`` is observed in row ``i``.

Probabilities are kept at or above :data:`PROBABILITY_FLOOR` (``1e-10``) and renormalised, so that a
category never seen in a profile does not make a log-density ``-inf``; an estimate at that floor is a
boundary estimate (poLCA reports it as 0, Mplus fixes the threshold at +-15) and the models warn about
it. The effect on the log-likelihood is of the order of the floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.mixture import Array

__all__ = [
    "BOUNDARY",
    "MAX_CATEGORIES",
    "PROBABILITY_FLOOR",
    "CategoricalDesign",
    "categorical_log_density",
    "categorical_m_step",
    "encode_column",
    "floor_normalise",
    "normalise_log",
    "partition_probabilities",
]

#: Smallest probability kept; estimates are raised to it and renormalised.
PROBABILITY_FLOOR = 1e-10
#: Probabilities below this are reported as boundary estimates (a warning).
BOUNDARY = 1e-6
#: A declared categorical column with more distinct values than this is refused.
MAX_CATEGORIES = 50


def encode_column(values: Any, name: str, categories: Sequence[Any] | None = None) -> tuple[Array, list[Any]]:
    """Category codes ``0..C-1`` (float, NaN where missing) of one column, and its sorted categories.

    With ``categories`` (a fitted model's) the column is coded against them; a value not among them is a
    ValueError naming the column. Without, the sorted distinct non-missing values are the categories;
    fewer than two or more than :data:`MAX_CATEGORIES` is a ValueError naming the column.
    """
    series = pd.Series(np.asarray(values, dtype=object)).reset_index(drop=True)
    present = series.notna().to_numpy()
    observed = series[present]
    if categories is None:
        distinct = list(pd.unique(observed))
        try:
            found: list[Any] = sorted(distinct)
        except TypeError:  # mixed types: order by their text
            found = sorted(distinct, key=str)
        if len(found) < 2:
            raise ValueError(
                f"Categorical indicator {name!r} has {len(found)} distinct value(s): at least two are needed."
            )
        if len(found) > MAX_CATEGORIES:
            raise ValueError(
                f"Categorical indicator {name!r} has {len(found)} distinct values (more than {MAX_CATEGORIES}): "
                "is it continuous? Leave it out of categorical=."
            )
        categories = found
    lookup = {_key(c): j for j, c in enumerate(categories)}
    codes = np.full(len(series), np.nan)
    unknown = []
    for i in np.flatnonzero(present):
        code = lookup.get(_key(series.iloc[i]))
        if code is None:
            unknown.append(series.iloc[i])
        else:
            codes[i] = code
    if unknown:
        shown = sorted({str(u) for u in unknown})[:5]
        raise ValueError(f"Categorical indicator {name!r} has values not seen when fitting: {shown}.")
    return codes, list(categories)


def _key(value: Any) -> Any:
    """A lookup key under which 1, 1.0 and numpy's 1 are one category."""
    if isinstance(value, (bool, np.bool_)):
        return ("b", bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return ("n", float(value))
    return ("o", value)


@dataclass
class CategoricalDesign:
    """One-hot design of the categorical items of ``n`` rows."""

    onehot: Array  # (n, C) float, C = sum of categories; a missing item's block is all zero
    onehot_t: Array  # (C, n) contiguous, for the E-step product
    observed: Array  # (n, J) float, 1.0 where the item is observed
    sizes: Array  # (J,) categories per item
    starts: Array  # (J,) first column of each item's block
    item_of: Array  # (C,) the item of each column

    @classmethod
    def from_codes(cls, codes: Array, sizes: Sequence[int]) -> CategoricalDesign:
        """The design of ``codes`` (n, J), float codes ``0..C_j-1`` with NaN where missing."""
        sizes_arr = np.asarray(sizes, dtype=int)
        starts = np.concatenate([[0], np.cumsum(sizes_arr)[:-1]]).astype(int)
        n, n_items = codes.shape
        onehot = np.zeros((n, int(sizes_arr.sum())))
        observed = np.isfinite(codes)
        for j in range(n_items):
            rows = np.flatnonzero(observed[:, j])
            onehot[rows, starts[j] + codes[rows, j].astype(int)] = 1.0
        item_of = np.repeat(np.arange(n_items), sizes_arr)
        return cls(onehot, np.ascontiguousarray(onehot.T), observed.astype(float), sizes_arr, starts, item_of)

    @property
    def n_free(self) -> int:
        """Free probabilities per profile: ``sum_j (C_j - 1)``."""
        return int((self.sizes - 1).sum())

    def split(self, probs: Array) -> list[Array]:
        """``probs`` (..., C) as one array (..., C_j) per item."""
        return [probs[..., s : s + c] for s, c in zip(self.starts, self.sizes, strict=True)]


def categorical_log_density(design: CategoricalDesign, probs: Array) -> Array:
    """``sum_j log p_k(y_ij)`` over observed items, for probabilities of any leading shape ``(..., C)``.

    Returns an array ``(..., n)``: for ``probs`` of shape ``(S, K, C)`` the ``(S, K, n)`` layout of the
    batched E-steps.
    """
    lead = probs.shape[:-1]
    log_p = np.log(probs.reshape(-1, probs.shape[-1]))
    return np.asarray((log_p @ design.onehot_t).reshape(*lead, design.onehot.shape[0]))


def floor_normalise(probs: Array, design: CategoricalDesign) -> Array:
    """Raise probabilities to :data:`PROBABILITY_FLOOR` and renormalise each item's block."""
    probs = np.maximum(probs, PROBABILITY_FLOOR)
    totals = np.add.reduceat(probs, design.starts, axis=-1)
    return np.asarray(probs / totals[..., design.item_of])


def normalise_log(log_probs: Array, design: CategoricalDesign) -> Array:
    """Probabilities from unnormalised log probabilities (multinomial logits), item by item, floored."""
    top = np.maximum.reduceat(log_probs, design.starts, axis=-1)
    shifted = np.exp(log_probs - top[..., design.item_of])
    return floor_normalise(shifted, design)


def categorical_m_step(design: CategoricalDesign, resp: Array) -> Array:
    """Probabilities ``(M, C)`` maximising the expected complete-data likelihood for posteriors ``resp`` (M, n).

    Each item's denominator is the posterior mass of the rows where it is observed; a profile with no such
    mass gets equal probabilities.
    """
    sums = resp @ design.onehot  # (M, C)
    denom = (resp @ design.observed)[:, design.item_of]  # (M, C)
    uniform = 1.0 / design.sizes[design.item_of]
    probs = np.where(denom > 1e-300, sums / np.maximum(denom, 1e-300), uniform)
    return floor_normalise(probs, design)


def partition_probabilities(design: CategoricalDesign, membership: Array, pseudo: float = 1.0) -> Array:
    """Smoothed category shares of partitions: ``membership`` (M, n) 0/1, ``pseudo`` counts added to each cell.

    Used for starting values (the counts keep every start away from the boundary).
    """
    sums = membership @ design.onehot + pseudo
    denom = (membership @ design.observed)[:, design.item_of] + pseudo * design.sizes[design.item_of]
    return floor_normalise(sums / denom, design)
