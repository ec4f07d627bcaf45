"""Latent profile analysis: Gaussian mixtures with the parameterisations used in LPA, on pandas DataFrames.

A latent profile model says that each participant belongs to one of ``K`` unobserved profiles and that,
within profile ``k``, the indicators are multivariate normal with mean ``mu_k`` and covariance ``Sigma_k``.
Four covariance structures are offered, named as in mclust (Scrucca et al. 2016) and tidyLPA:

========  ==========================================  ====================  ===============================
name      covariance                                  tidyLPA model         StepMix ``measurement``
========  ==========================================  ====================  ===============================
``EEI``   diagonal, equal across profiles             1 (Mplus default)     (none)
``VVI``   diagonal, varying across profiles           2                     ``"gaussian_diag"``
``EEE``   full, equal across profiles                 3                     ``"gaussian_tied"``
``VVV``   full, varying across profiles               6                     ``"gaussian_full"``
========  ==========================================  ====================  ===============================

Estimation is maximum likelihood by EM with many starting values. All starts are iterated together as
one batch, so that each E- and M-step for all starts is a handful of matrix products (for the diagonal
models one product over all starts and profiles at once), and EM is accelerated by SQUAREM (Varadhan &
Roland 2008), which keeps the log-likelihood monotone. Starting values come from k-means++ with Lloyd
iterations, random partitions and random posterior probabilities (see :class:`LatentProfileModel`). As
Mplus's two-stage ``STARTS = n_starts n_final_starts``, every start first gets ``n_init_iter`` (10) EM
iterations and only the best ``n_final_starts`` (by default a quarter of ``n_starts``) are iterated to
convergence. The best log-likelihood must be reached by at least two of the starts iterated to
convergence; until it is, random starts are added (doubling, up to ``max_starts``), and only then is a
:class:`ReplicationWarning` given.

Missing values: the diagonal models (EEI, VVI) use full information maximum likelihood (each row's
likelihood is over its observed indicators, valid under missing at random); the full-covariance models
drop incomplete rows with a warning. See ``missing`` in :class:`LatentProfileModel`.

Categorical indicators: ``categorical=[...]`` names binary, ordinal (treated as nominal) or nominal
columns (strings are fine). Within a profile each has one probability per category and is independent of
every other indicator (local independence), so a model with only categorical columns is a latent class
model (Goodman 1974; poLCA, Linzer & Lewis 2011) and a mixed one is the mixed-mode latent class model of
Latent GOLD and Mplus (Vermunt & Magidson 2002) and of StepMix's nested ``"gaussian_diag"`` plus
``"categorical"`` measurement (Morin et al. 2025). Continuous columns keep the chosen parameterisation.
A missing categorical value drops that item from the row's likelihood (FIML). Probabilities are floored
at 1e-10; an estimate at the floor is a boundary estimate and gives a warning. The probabilities are in
``probabilities_`` and :meth:`LatentProfileModel.get_probabilities_df`, and count ``K (C_j - 1)``
parameters each. The numerics are in :mod:`analysis.categorical` (shared with :mod:`analysis.lta`). On
Agresti's (2002) carcinoma data the 2-, 3- and 4-class log-likelihoods are poLCA's -317.2568, -293.705
and -289.2858.

:func:`enumerate_profiles` fits ``K = 1..8`` for one or more parameterisations and returns an
:class:`EnumerationResult` with the fit table researchers report (log-likelihood, AIC, BIC,
sample-size adjusted BIC, ICL, entropy, smallest profile, replication, LMR and bootstrapped LRT) and a
recommended number of profiles.

References
----------
Nylund, K. L., Asparouhov, T., & Muthén, B. O. (2007). Deciding on the number of classes in latent class
analysis and growth mixture modeling: A Monte Carlo simulation study. Structural Equation Modeling, 14(4),
535-569.

Lo, Y., Mendell, N. R., & Rubin, D. B. (2001). Testing the number of components in a normal mixture.
Biometrika, 88(3), 767-778.

McLachlan, G. J. (1987). On bootstrapping the likelihood ratio test statistic for the number of
components in a normal mixture. Applied Statistics, 36(3), 318-324.

Varadhan, R., & Roland, C. (2008). Simple and globally convergent methods for accelerating the
convergence of any EM algorithm. Scandinavian Journal of Statistics, 35(2), 335-353.

Ramaswamy, V., DeSarbo, W. S., Reibstein, D. J., & Robinson, W. T. (1993). An empirical pooling approach
for estimating marketing mix elasticities with PIMS data. Marketing Science, 12(1), 103-124.

Sclove, S. L. (1987). Application of model-selection criteria to some problems in multivariate analysis.
Psychometrika, 52(3), 333-343.

Biernacki, C., Celeux, G., & Govaert, G. (2000). Assessing a mixture model for clustering with the
integrated completed likelihood. IEEE Transactions on Pattern Analysis and Machine Intelligence, 22(7),
719-725.

Goodman, L. A. (1974). Exploratory latent structure analysis using both identifiable and unidentifiable
models. Biometrika, 61(2), 215-231.

Vermunt, J. K., & Magidson, J. (2002). Latent class cluster analysis. In J. A. Hagenaars & A. L.
McCutcheon (Eds.), Applied latent class analysis (pp. 89-106). Cambridge University Press.

Linzer, D. A., & Lewis, J. B. (2011). poLCA: An R package for polytomous variable latent class analysis.
Journal of Statistical Software, 42(10), 1-29.

Morin, S., Legault, R., Laliberté, F., Bakk, Z., Giguère, C.-É., de la Sablonnière, R., & Lacourse, É.
(2025). StepMix: A Python package for pseudo-likelihood estimation of generalized mixture models with
external variables. Journal of Statistical Software, 113(8), 1-39.

Agresti, A. (2002). Categorical data analysis (2nd ed.). Wiley. (Table 13.1, the carcinoma ratings.)

Scrucca, L., Fop, M., Murphy, T. B., & Raftery, A. E. (2016). mclust 5: clustering, classification and
density estimation using Gaussian finite mixture models. The R Journal, 8(1), 289-317.
"""

from analysis.lpa.em import PARAMETERISATIONS
from analysis.lpa.enumeration import EnumerationResult, Recommendation, enumerate_profiles, incremental_starts, lmr_test
from analysis.lpa.model import LatentProfileModel, LPAWarning, ReplicationWarning, SpuriousSolutionWarning

__all__ = [
    "PARAMETERISATIONS",
    "EnumerationResult",
    "LPAWarning",
    "LatentProfileModel",
    "Recommendation",
    "ReplicationWarning",
    "SpuriousSolutionWarning",
    "enumerate_profiles",
    "incremental_starts",
    "lmr_test",
]
