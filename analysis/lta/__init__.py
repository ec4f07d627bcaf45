"""Latent transition analysis: a latent Markov model over waves with a Gaussian profile measurement model.

The model follows Mplus' LTA and R's LMest. Each participant ``i`` is in one of ``K`` latent profiles at
each wave ``t``; profiles follow a first-order Markov chain with initial shares ``pi`` and one transition
matrix per pair of consecutive waves (time-heterogeneous, or one shared matrix with ``homogeneous=True``);
given the profile, the indicators are independent Gaussians (``"VVI"``: profile-specific variances,
``"EEI"``: variances shared by profiles) whose means and variances are held equal over waves
(``invariant=True``) or free per wave.

Estimation is maximum likelihood by EM (Baum-Welch), vectorised over participants (loops run over waves
and iterations only). Emission densities are kept as logs; the forward-backward recursions shift them by
their maximum and renormalise at every wave (Rabiner's scaling, the log-likelihood being the sum of the log
normalisers), and participants for whom that would underflow are recomputed entirely in log space. A
participant who misses a wave has no row for it (or only missing indicators): that wave contributes an
emission of 1 to the recursions, and an indicator missing within a row is integrated out of the diagonal
Gaussian. This is full-information maximum likelihood, valid under missing at random.

Covariates act on the initial profile (multinomial logit, reference profile 1) and on the transitions
(multinomial logit of the destination given the origin, per origin; the reference destination is staying
in the origin profile, as in LMest; the intercepts are per wave pair, the covariate slopes are shared by
the wave pairs). Their standard errors come from the observed information matrix: central finite
differences of the analytic score (Fisher's identity) of the full likelihood, measurement parameters
included; a robust sandwich (observed information around the outer product of the per-participant scores)
is available too.

Beside the one-step model, :meth:`LatentTransitionModel.three_step` gives the three-step estimator with
classification-error correction (ML: Vermunt 2010; BCH: Bolck, Croon & Hagenaars 2004, Vermunt 2010) and
:meth:`LatentTransitionModel.naive_transitions` the naive classify-and-cross-tabulate table, which
overstates change.

Profiles are numbered 1..K in every frame; arrays are 0-based.
"""

from analysis.lta.model import LatentTransitionModel
from analysis.lta.results import BootstrapResult, InvarianceTestResult, TransitionResult
from analysis.mixture import match_profiles

__all__ = [
    "BootstrapResult",
    "InvarianceTestResult",
    "LatentTransitionModel",
    "TransitionResult",
    "match_profiles",
]
