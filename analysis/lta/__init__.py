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

Categorical indicators: ``categorical=[...]`` names binary, ordinal (treated as nominal) or nominal
indicator columns (strings are fine). Given the profile each has one probability per category (held
equal over waves with ``invariant=True``, like the means) and is independent of the other indicators, so
the emission is the continuous part times the categorical part; a missing value drops the item from that
participant-wave (FIML). With only categorical indicators the model is the latent Markov (latent
transition) model of latent class analysis (Collins & Lanza 2010; Bartolucci, Farcomeni & Pennoni 2013,
LMest); mixed indicators follow the mixed-mode latent class models of Latent GOLD and Mplus (Vermunt &
Magidson 2002). Step 1 of the three-step estimator is a :class:`analysis.lpa.LatentProfileModel` with the
same categorical indicators. The numerics are shared with LPA in :mod:`analysis.categorical`
(probabilities floored at 1e-10: Goodman 1974; Linzer & Lewis 2011; Morin et al. 2025 for StepMix's
categorical measurement); the probabilities are in ``probabilities_`` and
:meth:`LatentTransitionModel.probabilities_frame`, and in :meth:`LatentTransitionModel.to_frame` as
``parameter="probability"`` rows with their ``category``.

Case weights: ``fit(..., weights=...)`` takes person-level sampling or attrition weights (a column constant
within id, or a Series by id), as Mplus' WEIGHT option does. They are rescaled to mean 1 (Mplus rescales them
to sum to the sample size), so the log-likelihood, BIC and AIC refer to the ``n`` participants. The estimator
maximises the pseudo-log-likelihood ``sum_i w_i ll_i`` (Skinner 1989; Asparouhov 2005): the E-step is
unchanged and every M-step (means, variances, category probabilities, initial shares, transitions and the
multinomial logits of the covariates) sums the posteriors times ``w_i``; weights that are all one take the
unweighted code path. Standard errors of covariate effects default to the sandwich ``H^-1 (sum_i w_i^2 s_i
s_i') H^-1`` (Binder 1983), the bootstrap resamples participants with their weights, the likelihood-ratio
invariance test is refused (its statistic is not chi-square under weights), and the naive table and the
three-step estimator weight steps 2 and 3 (their step-1 profile model is unweighted). ``weighted_``,
``weights_``, the summary and ``to_frame().attrs["weighted"]`` say that a fit is weighted.

Profiles are numbered 1..K in every frame; arrays are 0-based.

References
----------
Asparouhov, T. (2005). Sampling weights in latent variable modeling. Structural Equation Modeling, 12(3),
411-434.

Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex surveys.
International Statistical Review, 51(3), 279-292.

Skinner, C. J. (1989). Domain means, regression and multivariate analysis. In C. J. Skinner, D. Holt & T. M.
F. Smith (Eds.), Analysis of complex surveys (pp. 59-87). Wiley.

Collins, L. M., & Lanza, S. T. (2010). Latent class and latent transition analysis. Wiley.

Bartolucci, F., Farcomeni, A., & Pennoni, F. (2013). Latent Markov models for longitudinal data. CRC Press.

Goodman, L. A. (1974). Exploratory latent structure analysis using both identifiable and unidentifiable
models. Biometrika, 61(2), 215-231.

Vermunt, J. K., & Magidson, J. (2002). Latent class cluster analysis. In J. A. Hagenaars & A. L.
McCutcheon (Eds.), Applied latent class analysis (pp. 89-106). Cambridge University Press.

Linzer, D. A., & Lewis, J. B. (2011). poLCA: An R package for polytomous variable latent class analysis.
Journal of Statistical Software, 42(10), 1-29.

Morin, S., Legault, R., Laliberté, F., Bakk, Z., Giguère, C.-É., de la Sablonnière, R., & Lacourse, É.
(2025). StepMix: A Python package for pseudo-likelihood estimation of generalized mixture models with
external variables. Journal of Statistical Software, 113(8), 1-39.
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
