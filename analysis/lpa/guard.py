"""The spurious-solution guard: which maxima of a Gaussian mixture likelihood are degenerate.

The likelihood of a mixture with profile-specific variances has no global maximum: a profile that sits
on a few observations, or on one value of an indicator, lets a variance go to zero and the likelihood to
infinity (Kiefer & Wolfowitz 1956; Day 1969). EM run from many starts finds such "spurious" maxima
(McLachlan & Peel 2000, section 3.10), and they have the highest log-likelihood, so choosing the best
start picks them. A solution is spurious here when a profile

* is smaller, by posterior mass, than the observations its covariance needs: ``d + 1`` for a full
  covariance matrix of its own (VVV), 2 for variances of its own (VVI), 1 otherwise, and at least
  ``min_share`` of the rows; or
* has a variance (diagonal models) or a covariance eigenvalue (full models) at the floor: below
  ``tol`` times the indicator's overall variance (eigenvalues of the covariance matrix standardised by
  the overall variances), which is where the ridge ``reg_covar`` holds a collapsing variance and where
  the likelihood is unbounded in practice.

Such solutions are set aside: :class:`~analysis.lpa.LatentProfileModel` reports the best solution that
is not spurious and says what it set aside; when every start ended spurious the model says so, and
:func:`~analysis.lpa.enumerate_profiles` never recommends it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.lpa.em import _DIAGONAL, _SHARED, _Data, _Params
from analysis.mixture import Array

__all__ = ["DEGENERACY_TOL", "min_profile_size", "spurious_reasons"]

#: A variance (or covariance eigenvalue) below this share of the indicator's overall variance is at the
#: floor: 100 times the default ridge (``reg_covar=1e-6`` of the overall variance), far below any
#: variance a profile of real data has.
DEGENERACY_TOL = 1e-4


def min_profile_size(parameterisation: str, d: int) -> int:
    """Observations a profile needs by posterior mass for its own covariance: d + 1 (VVV), 2 (VVI), 1."""
    if _SHARED[parameterisation]:
        return 1
    return 2 if _DIAGONAL[parameterisation] else d + 1


def _smallest_scaled(cov: Array, scale: Array, diagonal: bool) -> tuple[Array, Array]:
    """Per profile: the smallest variance or eigenvalue on the overall scale, and (diagonal) which indicator."""
    if diagonal:
        scaled = cov / scale
        return scaled.min(axis=-1), scaled.argmin(axis=-1)
    root = np.sqrt(scale)
    standardised = cov / (root[:, None] * root[None, :])
    return np.linalg.eigvalsh(standardised)[..., 0], np.full(cov.shape[0], -1)


def spurious_reasons(
    finals: _Params,
    usable: Array,
    data: _Data,
    parameterisation: str,
    names: Sequence[str],
    *,
    min_share: float = 0.0,
    tol: float = DEGENERACY_TOL,
) -> list[str]:
    """Why each start's final solution is spurious ("" when it is not, or the start is not ``usable``).

    Profiles are numbered as the model reports them: by decreasing share.
    """
    n, d = data.n, data.d
    diagonal = _DIAGONAL[parameterisation]
    need = max(float(min_profile_size(parameterisation, d)), min_share * n)
    scale = np.maximum(data.scale, 1e-300)
    out: list[str] = []
    for s in range(finals.n_starts):
        if not usable[s]:
            out.append("")
            continue
        order = np.argsort(-finals.weights[s], kind="stable")
        sizes = finals.weights[s][order] * n
        cov = finals.cov[s] if _SHARED[parameterisation] else finals.cov[s][order]
        if d:
            smallest, where = _smallest_scaled(cov, scale, diagonal)
        else:  # a latent class model: no variance to collapse
            smallest, where = np.ones(len(sizes)), np.zeros(len(sizes), dtype=int)
        reasons = []
        for j in np.flatnonzero(sizes < need):
            reasons.append(
                f"profile {j + 1} has {sizes[j]:.1f} members by posterior mass, fewer than the {need:g} "
                f"its covariance needs"
            )
        for j in np.flatnonzero(smallest < tol):
            owner = "the shared covariance" if _SHARED[parameterisation] else f"profile {j + 1}"
            what = f"variance of {names[where[j]]!r}" if diagonal else "covariance matrix's smallest eigenvalue"
            reasons.append(f"{owner}'s {what} is at the floor ({smallest[j]:.1e} of the overall variance)")
        out.append("; ".join(reasons))
    return out
