"""The numbers behind a participant's personal feedback after the Carrière Kompas.

The web layer scores the questionnaire with :func:`analysis.scoring.score` and passes the participant's own
facet and scale scores (a Series indexed by code) and the whole sample's scores (a frame with one column per
code) in. This module does the statistics only:

* :func:`compare_to_sample` sets each own score beside the sample: mean, SD, z score and percentile, falling
  back to the response scale's midpoint when there are too few people to compare with;
* :func:`resemble_profile` names the reference profile of *Mind the Gap!* (see
  :mod:`analysis.reference_profiles`) the participant's standardised facet scores resemble most;
* :func:`movement` tells how scores (and the profile) moved between two waves.

No Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.reference_profiles import FACETS, REFERENCE_PROFILES, UNMATCHED, similarity_matrix

__all__ = [
    "COMPARISON_COLUMNS",
    "MARKED_Z",
    "Movement",
    "ProfileResemblance",
    "compare_to_sample",
    "movement",
    "resemble_profile",
]

#: Columns of the frame returned by :func:`compare_to_sample`, in order.
COMPARISON_COLUMNS: tuple[str, ...] = ("score", "sample_n", "sample_mean", "sample_sd", "z", "percentile", "basis")

#: A facet counts as clearly above (below) average for :class:`ProfileResemblance` when z > MARKED_Z (< -MARKED_Z).
MARKED_Z = 0.25

# absolute tolerance when comparing a change with the threshold, so that 4.1 - 3.6 counts as a change of 0.5
_TOLERANCE = 1e-9


def _numeric_series(values: pd.Series, what: str) -> pd.Series:
    if values.index.has_duplicates:
        raise ValueError(f"{what} has duplicate codes in its index")
    return pd.to_numeric(values, errors="raise").astype(float)


def compare_to_sample(
    own: pd.Series, sample: pd.DataFrame, *, scale_min: float, scale_max: float, min_sample: int = 30
) -> pd.DataFrame:
    """Set a participant's own scores beside the sample's.

    Parameters
    ----------
    own : Series
        The participant's scores, indexed by facet or scale code. NaN scores are kept (as rows of NaN).
    sample : DataFrame
        The sample's scores: one row per participant, one column per code. Missing values are ignored per code;
        a code that is not a column counts as having no sample values.
    scale_min, scale_max : float
        The response scale's lowest and highest value (e.g. 1 and 7).
    min_sample : int, default 30
        The fewest non-missing sample values for a code to be compared with the sample (at least 2).

    Returns
    -------
    DataFrame
        One row per code of ``own`` (index named ``code``, in the order of ``own``) with columns:

        ``score``
            the own score;
        ``sample_n``
            number of non-missing sample values for the code;
        ``sample_mean``, ``sample_sd``
            their mean and standard deviation (``ddof=1``); NaN when there are too few values;
        ``z``
            the own score standardised: ``(score - sample_mean) / sample_sd`` when ``basis`` is ``"sample"``,
            ``(score - midpoint) / ((scale_max - scale_min) / 4)`` with ``midpoint = (scale_min + scale_max) / 2``
            when it is ``"scale"``; 0 when the sample does not vary; NaN when the own score is NaN;
        ``percentile``
            share of the sample strictly below the own score plus half the share equal to it, times 100
            (0 to 100); NaN when ``sample_n`` is 0 or the own score is NaN;
        ``basis``
            ``"sample"`` when ``sample_n >= min_sample``, else ``"scale"`` (too few people to compare with).

    Raises
    ------
    ValueError
        When ``scale_max`` is not above ``scale_min``, ``min_sample`` is below 2, or ``own`` or ``sample`` has
        duplicate codes.
    """
    if not scale_max > scale_min:
        raise ValueError(f"scale_max ({scale_max}) must be above scale_min ({scale_min})")
    if min_sample < 2:
        raise ValueError(f"min_sample must be at least 2 (a standard deviation needs two values), got {min_sample}")
    if sample.columns.has_duplicates:
        raise ValueError("sample has duplicate code columns")
    own = _numeric_series(own, "own")
    midpoint = (scale_min + scale_max) / 2
    scale_sd = (scale_max - scale_min) / 4

    records = []
    for code, score in own.items():
        if code in sample.columns:
            values = pd.to_numeric(sample[code], errors="raise").dropna().to_numpy(dtype=float)
        else:
            values = np.empty(0)
        n = int(values.size)
        mean = float(values.mean()) if n > 0 else np.nan
        sd = float(values.std(ddof=1)) if n > 1 else np.nan
        if n > 1 and values.min() == values.max():
            sd = 0.0  # no spread; std of equal floats can come out as ~1e-17 from rounding in the mean
        basis = "sample" if n >= min_sample else "scale"
        if np.isnan(score):
            z = np.nan
        elif basis == "sample":
            z = (score - mean) / sd if sd > 0 else 0.0
        else:
            z = (score - midpoint) / scale_sd
        if n == 0 or np.isnan(score):
            percentile = np.nan
        else:
            percentile = 100.0 * (np.count_nonzero(values < score) + 0.5 * np.count_nonzero(values == score)) / n
        records.append((score, n, mean, sd, z, percentile, basis))

    frame = pd.DataFrame.from_records(records, columns=list(COMPARISON_COLUMNS), index=own.index)
    frame.index.name = "code"
    return frame.astype({"score": float, "sample_n": int, "sample_mean": float, "sample_sd": float, "z": float})


@dataclass(frozen=True)
class ProfileResemblance:
    """The reference profile a participant resembles most.

    Attributes
    ----------
    name : str
        The reference profile with the highest similarity, or ``analysis.reference_profiles.UNMATCHED`` when
        that similarity is below the threshold.
    similarity : float
        The highest similarity (Pearson r in [-1, 1]), also when it was too weak for a name.
    ranking : list of (str, float)
        All six reference profiles with their similarity, highest first (ties in the report's order).
    high : list of str
        Facets the best profile is high on (+1) on which the participant is above average (z > 0.25), in the
        order of the profile's signature; empty when unmatched.
    low : list of str
        Facets the best profile is low on (-1) on which the participant is below average (z < -0.25); empty when
        unmatched.
    facets_used : int
        Number of facets with a non-missing z that entered the similarity.
    """

    name: str
    similarity: float
    ranking: list[tuple[str, float]]
    high: list[str]
    low: list[str]
    facets_used: int


def resemble_profile(z: pd.Series, *, min_similarity: float = 0.2, min_facets: int = 15) -> ProfileResemblance:
    """Find the reference profile a participant's standardised facet scores resemble most.

    Parameters
    ----------
    z : Series
        Standardised facet scores (e.g. the ``z`` column of :func:`compare_to_sample`), indexed by facet code
        such as ``pers_extraversion``. Codes that are not identity facets of the instrument (scales such as
        ``career_clarity``) are ignored, and so are NaN values.
    min_similarity : float, default 0.2
        The best match is named only when its similarity is at least this; otherwise ``name`` is ``UNMATCHED``.
    min_facets : int, default 15
        The fewest facets with a score needed for a resemblance (at least 3).

    Returns
    -------
    ProfileResemblance
        Best profile, its similarity, the ranking of all six and the facets where the participant shows the
        profile's signature.

    Raises
    ------
    ValueError
        When fewer than ``min_facets`` facets have a score, a facet score is infinite, or ``z`` has duplicate
        codes.

    Notes
    -----
    The similarity is :func:`analysis.reference_profiles.similarity_matrix` of a one-row frame of the
    participant's facets: the Pearson correlation between their z scores and each profile's signature (+1, -1,
    0). It depends on the shape of the scores only; scores that do not vary give similarity 0 to every profile.
    """
    if min_facets < 3:
        raise ValueError(f"min_facets must be at least 3, got {min_facets}")
    z = _numeric_series(z, "z")
    present = z[[code in FACETS for code in z.index]].dropna()
    if np.isinf(present.to_numpy()).any():
        raise ValueError("z has infinite facet scores")
    if len(present) < min_facets:
        raise ValueError(
            f"too few facet scores for a profile resemblance: {len(present)} facets present, "
            f"at least {min_facets} needed"
        )

    similarities = similarity_matrix(present.to_frame().T).iloc[0]
    ranking = sorted(((str(name), float(value)) for name, value in similarities.items()), key=lambda item: -item[1])
    best, similarity = ranking[0]
    if similarity < min_similarity:
        return ProfileResemblance(UNMATCHED, similarity, ranking, [], [], len(present))
    profile = REFERENCE_PROFILES[best]
    high = [f for f in profile.high if f in present.index and present[f] > MARKED_Z]
    low = [f for f in profile.low if f in present.index and present[f] < -MARKED_Z]
    return ProfileResemblance(best, similarity, ranking, high, low, len(present))


@dataclass(frozen=True)
class Movement:
    """How a participant's scores and profile moved between two waves.

    Attributes
    ----------
    changes : DataFrame
        One row per code with a score in both waves (index named ``code``, in the order of the current scores),
        columns ``previous``, ``current``, ``change`` (``current - previous``) and ``direction`` (``"up"``,
        ``"down"`` or ``"same"``).
    previous_profile, current_profile : str or None
        The profile names passed in (None when not known).
    profile_changed : bool
        True when both profiles are known and differ.
    """

    changes: pd.DataFrame
    previous_profile: str | None
    current_profile: str | None
    profile_changed: bool


def movement(
    current: pd.Series,
    previous: pd.Series,
    *,
    current_profile: str | None = None,
    previous_profile: str | None = None,
    threshold: float = 0.5,
) -> Movement:
    """Tell how scores moved between the previous and the current wave.

    Parameters
    ----------
    current, previous : Series
        The participant's scores in the current and the previous wave, indexed by code. Codes that are missing
        or NaN in either wave are left out.
    current_profile, previous_profile : str, optional
        The profile names (e.g. ``ProfileResemblance.name``) in the two waves.
    threshold : float, default 0.5
        A change of at least this many scale points counts as ``"up"``, of at most minus this as ``"down"``;
        smaller changes are ``"same"``. Must be positive.

    Returns
    -------
    Movement
        The changes per code and whether the profile changed.

    Raises
    ------
    ValueError
        When ``threshold`` is not positive or a wave has duplicate codes.
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    current = _numeric_series(current, "current").dropna()
    previous = _numeric_series(previous, "previous").dropna()
    codes = [code for code in current.index if code in previous.index]
    now = current.loc[codes].to_numpy(dtype=float)
    before = previous.loc[codes].to_numpy(dtype=float)
    change = now - before
    direction = np.where(
        change >= threshold - _TOLERANCE, "up", np.where(change <= -threshold + _TOLERANCE, "down", "same")
    )
    changes = pd.DataFrame(
        {"previous": before, "current": now, "change": change, "direction": direction.astype(object)},
        index=pd.Index(codes, name="code", dtype=object),
    )
    profile_changed = (
        previous_profile is not None and current_profile is not None and previous_profile != current_profile
    )
    return Movement(changes, previous_profile, current_profile, profile_changed)
