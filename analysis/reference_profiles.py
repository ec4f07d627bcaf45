"""The six professional profiles of *Mind the Gap!* (2016) and naming of estimated profiles after them.

A latent profile analysis returns anonymous profiles ("Profile 1", ...). :func:`name_profiles` gives each
the name of the reference profile it resembles most, one-to-one, so that waves, cohorts and re-analyses
speak of the same Nerd, Einzelgänger, Traditionalist, Innovator, All-rounder and Status Seeker.

Each reference profile has a *signature*: the identity facets of the Carrière Kompas (codes of
``carriere-kompas-2026.1.yaml``) on which the 2016 report describes it as high (+1) or low (-1). The
report's descriptions are mapped onto facets as follows: a personality word onto the personality facet
that holds that item ("introvert" high -> ``pers_extraversion`` -1, "modest" -> ``pers_agreeableness``);
an interest onto its interest facet ("TV, computers" -> ``int_screen_media``); a value that the
instrument asks both as a value and as a future goal onto both facets ("power, money" ->
``val_power_money`` and ``goal_status_income``; "security" -> ``val_security_comfort`` and
``goal_security_private``; "societal engagement" -> ``val_societal_welfare`` and
``goal_societal_contribution``, for the interests column ``int_society_politics``); a competence onto
its competence facet. Facets the report does not mention for a profile are 0 (average).

Shares: Status Seeker .22, All-rounder .19 and Innovator .11 are the report's. The report gives the other
three only per job type (Nerd 24% of technical and 10% of non-technical jobs, Traditionalist 12% and
21%); weighted with the sample's ~47% technical jobs this gives Nerd .17 and Traditionalist .17, and
Einzelgänger the remaining .14.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

__all__ = [
    "FACETS",
    "REFERENCE_PROFILES",
    "UNMATCHED",
    "ReferenceProfile",
    "name_profiles",
    "signature_frame",
    "similarity_matrix",
]

UNMATCHED = "unmatched"

#: The identity facets (``kind: facet``) of carriere-kompas-2026.1, in instrument order.
FACETS: tuple[str, ...] = (
    "int_screen_media",
    "int_social_life",
    "int_associations",
    "int_sport_outdoors",
    "int_culture_music",
    "int_society_politics",
    "val_security_comfort",
    "val_power_money",
    "val_tradition_family",
    "val_friendship_courtesy",
    "val_societal_welfare",
    "val_challenge_enjoyment",
    "val_health_environment",
    "comp_research_engineering",
    "comp_management_leadership",
    "comp_organisation",
    "comp_teamwork_networking",
    "comp_international",
    "goal_status_income",
    "goal_security_private",
    "goal_societal_contribution",
    "goal_innovation_enterprise",
    "pers_extraversion",
    "pers_conscientiousness",
    "pers_openness",
    "pers_agreeableness",
    "pers_friendliness",
    "pers_sensitivity",
    "pers_conservatism",
    "pers_self_satisfaction",
)


@dataclass(frozen=True)
class ReferenceProfile:
    """One profile of the 2016 report: name, share of the 863 analysed alumni, signature, descriptions."""

    name: str
    share: float
    signature: Mapping[str, int]
    description: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.signature) - set(FACETS)
        if unknown:
            raise ValueError(f"{self.name}: unknown facets {sorted(unknown)}")
        if any(v not in (-1, 1) for v in self.signature.values()):
            raise ValueError(f"{self.name}: signature values must be +1 or -1")
        object.__setattr__(self, "signature", MappingProxyType(dict(self.signature)))
        object.__setattr__(self, "description", MappingProxyType(dict(self.description)))

    @property
    def high(self) -> list[str]:
        """Facets the profile is high on."""
        return [f for f, s in self.signature.items() if s > 0]

    @property
    def low(self) -> list[str]:
        """Facets the profile is low on."""
        return [f for f, s in self.signature.items() if s < 0]


def _profile(name: str, share: float, high: list[str], low: list[str], nl: str, en: str) -> ReferenceProfile:
    signature = {f: 1 for f in high} | {f: -1 for f in low}
    if len(signature) != len(high) + len(low):
        raise ValueError(f"{name}: a facet is both high and low")
    return ReferenceProfile(name, share, signature, {"nl": nl, "en": en})


_PROFILES = [
    _profile(
        "Nerd",
        0.17,
        high=[
            "pers_sensitivity",
            "int_screen_media",
            "val_security_comfort",
            "goal_security_private",
            "val_societal_welfare",
            "comp_research_engineering",
        ],
        low=[
            "pers_extraversion",
            "pers_conscientiousness",
            "int_social_life",
            "val_power_money",
            "goal_status_income",
            "comp_management_leadership",
            "comp_organisation",
        ],
        nl=(
            "Gevoelig en introvert, houdt van tv en computers meer dan van uitgaan; hecht aan zekerheid, comfort "
            "en maatschappelijke betrokkenheid, niet aan macht en geld; sterk in onderzoek en engineering, "
            "minder in managen en organiseren."
        ),
        en=(
            "Sensitive and introvert, prefers TV and computers to socialising; values security, comfort and "
            "societal engagement rather than power and money; strong in research and engineering, less so in "
            "managing and organising."
        ),
    ),
    _profile(
        "Einzelgänger",
        0.14,
        high=[
            "pers_conservatism",
            "int_screen_media",
            "val_security_comfort",
            "goal_security_private",
            "comp_research_engineering",
        ],
        low=[
            "pers_extraversion",
            "pers_openness",
            "pers_conscientiousness",
            "int_social_life",
            "int_associations",
            "val_challenge_enjoyment",
            "comp_teamwork_networking",
            "comp_international",
        ],
        nl=(
            "Introvert en behoudend, minder ruimdenkend; houdt van tv en computers, niet van uitgaan of "
            "verenigingen; hecht aan zekerheid en comfort, minder aan uitdaging en genieten; sterk in onderzoek "
            "en engineering, werkt liever alleen dan in een (internationaal) team."
        ),
        en=(
            "Introvert and conservative, less open-minded; enjoys TV and computers, not going out or clubs; "
            "values security and comfort over challenge and enjoying life; strong in research and engineering, "
            "prefers working alone to working in an (international) team."
        ),
    ),
    _profile(
        "Traditionalist",
        0.17,
        high=[
            "pers_agreeableness",
            "int_associations",
            "val_tradition_family",
            "val_health_environment",
            "val_security_comfort",
            "goal_security_private",
            "comp_organisation",
        ],
        low=[
            "pers_openness",
            "int_sport_outdoors",
            "int_screen_media",
            "val_power_money",
            "val_challenge_enjoyment",
            "comp_research_engineering",
        ],
        nl=(
            "Meegaand en bescheiden; actief in verenigingen en vrijwilligerswerk; hecht aan familie, traditie, "
            "gezond leven en zekerheid, niet aan macht of uitdaging; sterk in organiseren, minder in onderzoek "
            "en engineering."
        ),
        en=(
            "Agreeable and modest; active in clubs and volunteering; values family, tradition, healthy living "
            "and security, not power or challenge; strong in organising, less so in research and engineering."
        ),
    ),
    _profile(
        "Innovator",
        0.11,
        high=[
            "pers_extraversion",
            "pers_friendliness",
            "pers_openness",
            "int_society_politics",
            "val_challenge_enjoyment",
            "val_societal_welfare",
            "goal_societal_contribution",
            "comp_international",
            "comp_management_leadership",
            "comp_research_engineering",
            "comp_teamwork_networking",
        ],
        low=[
            "pers_sensitivity",
            "int_screen_media",
            "val_tradition_family",
            "val_security_comfort",
            "goal_security_private",
        ],
        nl=(
            "Extravert, vriendelijk en ruimdenkend, niet snel van slag; maatschappelijk betrokken; zoekt "
            "uitdaging en maatschappelijk welzijn boven traditie en zekerheid; internationaal georiënteerd, "
            "sterk in managen, onderzoek en samenwerken."
        ),
        en=(
            "Extravert, friendly and open-minded, not easily upset; engaged with society; seeks challenge and "
            "societal welfare over tradition and security; internationally oriented, strong in managing, "
            "research and team work."
        ),
    ),
    _profile(
        "All-rounder",
        0.19,
        high=[
            "pers_openness",
            "pers_extraversion",
            "pers_conscientiousness",
            "int_social_life",
            "int_society_politics",
            "int_culture_music",
            "val_challenge_enjoyment",
            "val_societal_welfare",
            "goal_societal_contribution",
            "val_health_environment",
            "comp_management_leadership",
            "comp_teamwork_networking",
            "comp_international",
            "comp_research_engineering",
        ],
        low=[
            "pers_self_satisfaction",
            "pers_agreeableness",
            "int_screen_media",
            "int_sport_outdoors",
            "val_security_comfort",
            "goal_security_private",
        ],
        nl=(
            "Ruimdenkend, extravert en consciëntieus, kritisch en niet zelfingenomen; sociaal, maatschappelijk "
            "betrokken en muzikaal; zoekt uitdaging en hecht aan welzijn, milieu en gezondheid; sterk in "
            "management, teamwerk, internationaal werken én onderzoek en engineering."
        ),
        en=(
            "Open-minded, extravert and conscientious, critical rather than self-satisfied; sociable, engaged "
            "with society and fond of music; seeks challenge and values welfare, environment and health; strong "
            "in management, team work, international work and research and engineering alike."
        ),
    ),
    _profile(
        "Status Seeker",
        0.22,
        high=[
            "pers_extraversion",
            "pers_self_satisfaction",
            "int_sport_outdoors",
            "val_power_money",
            "goal_status_income",
            "comp_management_leadership",
        ],
        low=[
            "pers_agreeableness",
            "int_screen_media",
            "val_societal_welfare",
            "goal_societal_contribution",
            "comp_research_engineering",
        ],
        nl=(
            "Extravert en zelfverzekerd, niet bescheiden; houdt van de natuur meer dan van tv en computers; "
            "hecht aan macht, geld en status, minder aan maatschappelijke betrokkenheid; sterk in managen en "
            "leidinggeven, minder in onderzoek."
        ),
        en=(
            "Extravert and self-assured, not modest; prefers nature to TV and computers; values power, money "
            "and status over societal engagement; strong in managing and leading, less so in research."
        ),
    ),
]

#: The six reference profiles by name, in the order of the report's table.
REFERENCE_PROFILES: Mapping[str, ReferenceProfile] = MappingProxyType({p.name: p for p in _PROFILES})


def signature_frame(facets: list[str] | tuple[str, ...] = FACETS) -> pd.DataFrame:
    """Signatures as a reference profile x facet frame of +1 / -1 / 0."""
    return pd.DataFrame(
        [[p.signature.get(f, 0) for f in facets] for p in REFERENCE_PROFILES.values()],
        index=pd.Index(list(REFERENCE_PROFILES), name="name"),
        columns=list(facets),
        dtype=float,
    )


def similarity_matrix(profile_means: pd.DataFrame) -> pd.DataFrame:
    """Similarity of each estimated profile (rows) to each reference profile (columns).

    The similarity is the Pearson correlation, over the reference facets present in ``profile_means``,
    between the profile's standardised means and the reference signature (+1 high, -1 low, 0 elsewhere). It
    lies in [-1, 1], does not depend on how far the profiles are apart overall (only on their shape), and a
    profile whose means do not vary gets similarity 0. Columns that are not facets of the instrument are
    ignored.
    """
    facets = [c for c in profile_means.columns if c in FACETS]
    if len(facets) < 3:
        raise ValueError("profile_means needs at least three facet columns (codes of the instrument's facets)")
    z = profile_means[facets].to_numpy(dtype=float)
    if np.isnan(z).any():
        raise ValueError("profile_means has missing values")
    sig = signature_frame(facets).to_numpy()
    zc = z - z.mean(axis=1, keepdims=True)
    sc = sig - sig.mean(axis=1, keepdims=True)
    num = zc @ sc.T
    den = np.outer(np.linalg.norm(zc, axis=1), np.linalg.norm(sc, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return pd.DataFrame(sim, index=profile_means.index, columns=list(REFERENCE_PROFILES))


def name_profiles(profile_means: pd.DataFrame, *, min_similarity: float = 0.3) -> pd.DataFrame:
    """Name estimated profiles after the reference profiles of *Mind the Gap!*.

    Parameters
    ----------
    profile_means : DataFrame
        One row per estimated profile (the index is its label) and one column per facet (instrument facet
        codes such as ``pers_extraversion``), holding standardised means: the profile's mean facet score in
        standard deviations of the facet over participants. Other columns are ignored.
    min_similarity : float, default 0.3
        A match whose similarity is below this is reported as ``"unmatched"``.

    Returns
    -------
    DataFrame
        One row per estimated profile, in the input order, with columns ``profile`` (the input index),
        ``name`` (reference profile or ``"unmatched"``), ``similarity`` (to the reference profile the
        assignment gave it, also when that match was too weak; NaN when there were more estimated profiles
        than reference profiles and none was left), ``second_best`` and ``second_best_similarity`` (the most
        similar reference profile other than ``name``; for an unmatched profile the most similar overall).

    Notes
    -----
    Similarity is the correlation between the profile's standardised means and the reference signature,
    see :func:`similarity_matrix`. Profiles and reference profiles are matched one-to-one by the Hungarian
    algorithm (:func:`scipy.optimize.linear_sum_assignment`) maximising the total similarity, so two
    estimated profiles never get the same name; with more than six estimated profiles the surplus ones
    are unmatched.
    """
    if profile_means.index.has_duplicates:
        raise ValueError("profile_means has duplicate profile labels")
    sim = similarity_matrix(profile_means)
    values = sim.to_numpy()
    names = list(sim.columns)
    rows, cols = linear_sum_assignment(values, maximize=True)
    partner = dict(zip(rows.tolist(), cols.tolist(), strict=True))
    records = []
    for i, label in enumerate(sim.index):
        j = partner.get(i)
        similarity = float(values[i, j]) if j is not None else float("nan")
        name = names[j] if j is not None and similarity >= min_similarity else UNMATCHED
        others = [k for k in np.argsort(-values[i], kind="stable") if name == UNMATCHED or k != j]
        k = int(others[0])
        records.append(
            {
                "profile": label,
                "name": name,
                "similarity": similarity,
                "second_best": names[k],
                "second_best_similarity": float(values[i, k]),
            }
        )
    return pd.DataFrame.from_records(
        records, columns=["profile", "name", "similarity", "second_best", "second_best_similarity"]
    )
