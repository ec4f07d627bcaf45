"""Categorical indicators of :class:`analysis.lpa.LatentProfileModel`: reading the columns, their starting
values, reporting and sampling. The numerics are in :mod:`analysis.categorical` (shared with LTA).
"""

# ruff: noqa: N803  (X for the data matrix, as in scikit-learn)
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.categorical import BOUNDARY, CategoricalDesign, encode_column, floor_normalise
from analysis.lpa.em import _Data, _prepare
from analysis.validation import numeric_indicators


@dataclass
class _ColumnSpec:
    """Which columns are categorical (positions among all columns) and their categories."""

    positions: list[int] = field(default_factory=list)
    categories: list[list[Any]] = field(default_factory=list)

    def continuous(self, p: int) -> list[int]:
        return [j for j in range(p) if j not in set(self.positions)]


def _declared(categorical: Any, names: list[str], from_frame: bool) -> list[int]:
    """Positions of the declared categorical columns (names for a DataFrame, indices for an array)."""
    if categorical is None:
        return []
    items = [categorical] if isinstance(categorical, (str, int, np.integer)) else list(categorical)
    positions = []
    for item in items:
        if from_frame and str(item) in names:
            positions.append(names.index(str(item)))
        elif not from_frame and isinstance(item, (int, np.integer)) and 0 <= int(item) < len(names):
            positions.append(int(item))
        else:
            raise ValueError(f"categorical= names {item!r}, which is not a column of X (columns: {names}).")
    if len(set(positions)) != len(positions):
        raise ValueError("categorical= names a column twice.")
    return sorted(positions)


def encode_input(
    X: Any, categorical: Any, spec: _ColumnSpec | None = None
) -> tuple[np.ndarray, list[str], pd.Index | None, _ColumnSpec]:
    """All indicators as one float matrix (categorical columns as codes ``0..C-1``, NaN where missing).

    Returns the matrix, the column names, the row index of a DataFrame (else None) and the column spec
    (found here when ``spec`` is None, else the fitted one the categories are coded against).
    """
    if isinstance(X, pd.Series):
        raise ValueError("Pass a DataFrame (one column per indicator), not a Series.")
    if isinstance(X, pd.DataFrame):
        frame, index, from_frame = X, X.index, True
        names = [str(c) for c in X.columns]
    else:
        raw = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
        if raw.ndim != 2:
            raise ValueError(f"Expected a 2-dimensional array of indicators, got shape {raw.shape}.")
        names = [f"x{j + 1}" for j in range(raw.shape[1])]
        frame, index, from_frame = pd.DataFrame(raw, columns=names), None, False
    positions = _declared(categorical, names, from_frame) if spec is None else spec.positions
    values = np.empty((len(frame), len(names)))
    found: list[list[Any]] = []
    for j in positions:
        known = None if spec is None else spec.categories[positions.index(j)]
        values[:, j], categories = encode_column(frame.iloc[:, j].to_numpy(), names[j], known)
        found.append(categories)
    continuous = [j for j in range(len(names)) if j not in positions]
    values[:, continuous] = numeric_indicators(frame.iloc[:, continuous])
    return values, names, index, spec if spec is not None else _ColumnSpec(positions, found)


def make_data(values: np.ndarray, spec: _ColumnSpec, parameterisation: str, center: np.ndarray | None = None) -> _Data:
    """The EM data of the rows ``values``: continuous columns prepared as before, categorical ones one-hot."""
    cat = None
    if spec.positions:
        sizes = [len(c) for c in spec.categories]
        cat = CategoricalDesign.from_codes(values[:, spec.positions], sizes)
    return _prepare(values[:, spec.continuous(values.shape[1])], parameterisation, center, cat)


def given_probabilities(given: Mapping[str, Any], data: _Data, k: int) -> np.ndarray | None:
    """User-given category probabilities (a list of (K, C_j) arrays, one per categorical item) as (1, K, C).

    Without them (for instance a start built from a continuous-only solution) every profile starts from the
    sample's category shares.
    """
    if data.cat is None:
        return None
    cat = data.cat
    if given.get("probabilities") is None:
        shares = data.cat.onehot.sum(axis=0) + 1.0
        probs = np.broadcast_to(floor_normalise(shares, cat), (k, shares.size))
        return np.asarray(probs)[None].copy()
    blocks = list(given["probabilities"])
    if len(blocks) != cat.sizes.size:
        raise ValueError(f"probabilities must hold {cat.sizes.size} arrays, one per categorical indicator.")
    parts = []
    for block, size in zip(blocks, cat.sizes, strict=True):
        arr = np.asarray(block, dtype=float)
        if arr.shape != (k, size):
            raise ValueError(
                f"Each probabilities array must have shape (K, categories) = {(k, size)}, got {arr.shape}."
            )
        parts.append(arr)
    return floor_normalise(np.concatenate(parts, axis=1), cat)[None]


class _CategoricalMixin:
    """Reporting and sampling of categorical indicators (mixed into :class:`LatentProfileModel`)."""

    weights_: np.ndarray
    probabilities_: list[np.ndarray]
    categories_: list[list[Any]]
    categorical_features_: list[str]
    feature_names_in_: list[str]
    warnings_: list[str]

    def _check_fitted(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _store_categorical(
        self, probs: np.ndarray | None, data: _Data, spec: _ColumnSpec, names: list[str]
    ) -> list[str]:
        """Set the categorical attributes from probabilities (K, C) in reported profile order; boundary messages."""
        self._spec = spec
        self.categorical_features_ = [names[j] for j in spec.positions]
        self.continuous_features_ = [names[j] for j in spec.continuous(len(names))]
        self.categories_ = [list(c) for c in spec.categories]
        if probs is None or data.cat is None:
            self.probabilities_ = []
            return []
        self.probabilities_ = [block.copy() for block in data.cat.split(probs)]
        at_boundary = [
            name
            for name, block in zip(self.categorical_features_, self.probabilities_, strict=True)
            if (block < BOUNDARY).any()
        ]
        if not at_boundary:
            return []
        return [
            f"Category probabilities at the boundary (below {BOUNDARY:g}, kept at 1e-10) for {at_boundary}: "
            "a category a profile (almost) never shows; these are boundary estimates (as poLCA's 0 and Mplus's "
            "fixed thresholds)."
        ]

    def get_probabilities_df(self) -> pd.DataFrame:
        """Category probabilities of the categorical indicators, in long form.

        Returns
        -------
        DataFrame with columns ``profile`` (``profile_1`` ...), ``variable``, ``category`` and ``probability``
        (empty without categorical indicators).
        """
        self._check_fitted()
        rows = [
            (f"profile_{k + 1}", name, category, float(block[k, c]))
            for name, block, categories in zip(
                self.categorical_features_, self.probabilities_, self.categories_, strict=True
            )
            for k in range(block.shape[0])
            for c, category in enumerate(categories)
        ]
        return pd.DataFrame(rows, columns=["profile", "variable", "category", "probability"])

    def _probability_rows(self) -> pd.DataFrame:
        """``get_parameters_df`` rows ``parameter="probability"`` (``category`` holds the category)."""
        frame = self.get_probabilities_df().rename(columns={"probability": "value"})
        frame.insert(0, "parameter", "probability")
        frame.insert(3, "variable_2", None)
        return frame[["parameter", "profile", "variable", "variable_2", "value", "category"]]

    def _sample_categories(self, labels: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A drawn category per row for each categorical indicator, given each row's profile."""
        out = {}
        for name, block, categories in zip(
            self.categorical_features_, self.probabilities_, self.categories_, strict=True
        ):
            cumulative = np.cumsum(block[labels], axis=1)
            draw = rng.random(labels.size)[:, None]
            index = np.minimum((draw > cumulative).sum(axis=1), len(categories) - 1)
            out[name] = np.asarray(categories, dtype=object)[index]
        return out
