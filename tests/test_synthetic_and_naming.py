"""Synthetic cohorts (analysis.synthetic) and naming of profiles after the 2016 reference profiles."""

import numpy as np
import pandas as pd
import pytest

from analysis.reference_profiles import FACETS, REFERENCE_PROFILES, UNMATCHED, name_profiles, similarity_matrix
from analysis.synthetic import PROFILE_NAMES, default_transition, load_definition, simulate_cohort


@pytest.fixture(scope="module")
def definition():
    return load_definition()


@pytest.fixture(scope="module")
def cohort(definition):
    return simulate_cohort(5000, n_waves=3, random_state=20261, definition=definition)


def _items(definition):
    return [item for section in definition["sections"] for item in section["items"]]


def _facet_scores(cohort, definition, wave=1):
    """Facet scores (mean of the facet's items, reverse-keyed ones rescored) per participant in a wave."""
    identity = {i["code"]: i for i in _items(definition) if i.get("facet") in FACETS}
    rows = cohort.answers[(cohort.answers["wave"] == wave) & cohort.answers["item"].isin(identity)]
    wide = rows.pivot(index="pseudonym", columns="item", values="value")
    for code in wide.columns:
        if identity[code].get("reverse"):
            wide[code] = 8 - wide[code]
    facet_of = pd.Series({code: identity[code]["facet"] for code in wide.columns})
    return wide.T.groupby(facet_of).mean().T[list(FACETS)]


@pytest.fixture(scope="module")
def true_profile_means(cohort, definition):
    scores = _facet_scores(cohort, definition)
    z = (scores - scores.mean()) / scores.std()
    profile = cohort.participants.set_index("pseudonym").loc[z.index, "profile_w1"]
    return z.groupby(profile).mean().loc[list(PROFILE_NAMES)]


# --- reference profiles -------------------------------------------------------------------------------


def test_reference_profiles_use_the_instruments_facets(definition):
    assert [f["code"] for f in definition["facets"] if f["kind"] == "facet"] == list(FACETS)
    assert list(REFERENCE_PROFILES) == [
        "Nerd",
        "Einzelgänger",
        "Traditionalist",
        "Innovator",
        "All-rounder",
        "Status Seeker",
    ]
    assert sum(p.share for p in REFERENCE_PROFILES.values()) == pytest.approx(1.0)
    assert REFERENCE_PROFILES["Status Seeker"].share == 0.22
    assert REFERENCE_PROFILES["All-rounder"].share == 0.19
    assert REFERENCE_PROFILES["Innovator"].share == 0.11
    assert REFERENCE_PROFILES["Nerd"].signature["pers_extraversion"] == -1  # "introvert"
    assert REFERENCE_PROFILES["Status Seeker"].signature["val_power_money"] == 1
    for profile in REFERENCE_PROFILES.values():
        assert profile.high and profile.low
        assert set(profile.description) == {"nl", "en"}


# --- synthetic cohort ---------------------------------------------------------------------------------


def test_background_shares_follow_the_mission_sample(cohort):
    p = cohort.participants
    assert len(p) == 5000 and p["pseudonym"].is_unique
    assert p["pseudonym"].str.fullmatch(r"S\d{6}").all()

    def shares(column):
        return p[column].value_counts(normalize=True)

    tol = 0.02
    assert shares("gender")["woman"] == pytest.approx(0.22, abs=tol)
    for key, share in {"hbo": 0.46, "wo": 0.50, "unknown": 0.04}.items():
        assert shares("institution")[key] == pytest.approx(share, abs=tol)
    for key, share in {"wo_msc": 0.59, "hbo_bsc": 0.27, "phd": 0.11, "hbo_msc": 0.03}.items():
        assert shares("highest_degree")[key] == pytest.approx(share, abs=tol)
    assert shares("study_cluster")[1] == pytest.approx(0.58, abs=tol)
    jobs = {"engineer": 0.24, "researcher": 0.10, "programmer_ict": 0.11, "consultant": 0.18}
    jobs |= {"project_leader": 0.09, "manager": 0.15, "teacher": 0.04, "other": 0.09}
    for key, share in jobs.items():
        assert shares("job_group")[key] == pytest.approx(share, abs=tol)
    sectors = {"technical_industry": 0.62, "technical_consultancy": 0.05, "non_technical": 0.24}
    for key, share in (sectors | {"higher_education": 0.09}).items():
        assert shares("sector")[key] == pytest.approx(share, abs=0.03)
    # job x sector groups of the report (37/31/12/20); its 49% technical jobs vs the 45% of the job groups
    groups = p.groupby(["technical_job", "technical_sector"]).size() / len(p)
    assert groups[(True, True)] == pytest.approx(0.37, abs=0.04)
    assert groups[(False, True)] == pytest.approx(0.31, abs=0.04)
    assert groups[(True, False)] == pytest.approx(0.12, abs=0.04)
    assert groups[(False, False)] == pytest.approx(0.20, abs=0.04)
    assert p["age"].mean() == pytest.approx(36, abs=0.6)
    assert p["age"].std() == pytest.approx(10.8, abs=0.8)
    assert p["age"].between(21, 70).all()
    assert p["contract_hours"].mean() == pytest.approx(36, abs=0.5)
    assert p["contract_hours"].std() == pytest.approx(8.5, abs=0.5)


def test_attrition_is_monotone_and_close_to_planted(cohort):
    present = cohort.answers.groupby(["pseudonym", "wave"]).size().unstack(fill_value=0) > 0
    assert present[1].all()
    assert not (present[3] & ~present[2]).any()  # nobody returns after dropping out
    assert present[2].mean() == pytest.approx(0.85, abs=0.02)
    assert present[3].sum() / present[2].sum() == pytest.approx(0.85, abs=0.02)
    last = cohort.participants.set_index("pseudonym")["last_wave"]
    assert (present.sum(axis=1) == last.loc[present.index]).all()
    states = cohort.truth["states"]
    assert states.groupby("wave")["observed"].sum().tolist() == present.sum().tolist()


def test_profiles_follow_the_planted_markov_chain(cohort):
    p = cohort.participants
    start = p["profile_w1"].value_counts(normalize=True)
    for name, share in cohort.truth["initial"].items():
        assert start[name] == pytest.approx(share, abs=0.02)
    counts = pd.crosstab(p["profile_w1"], p["profile_w2"]).loc[list(PROFILE_NAMES), list(PROFILE_NAMES)]
    observed = counts.div(counts.sum(axis=1), axis=0)
    planted = cohort.truth["transition"]
    pd.testing.assert_frame_equal(planted, default_transition())
    assert np.abs(observed.to_numpy() - planted.to_numpy()).max() < 0.06
    assert np.diag(planted).tolist() == pytest.approx([0.75] * 6)


def test_every_scale_and_choice_item_answered_within_its_range(cohort, definition):
    items = {i["code"]: i for i in _items(definition)}
    answers = cohort.answers
    assert set(answers.columns) == {"pseudonym", "wave", "item", "value"}
    assert set(answers["item"]) == set(items)
    assert not answers.duplicated(["pseudonym", "wave", "item"]).any()
    per_sheet = answers.groupby(["pseudonym", "wave"]).size()
    assert (per_sheet == len(items)).all()
    scale_items = [c for c, i in items.items() if i["type"] == "scale"]
    scale_values = answers.loc[answers["item"].isin(scale_items), "value"]
    assert scale_values.notna().all()
    assert scale_values.between(1, 7).all() and (scale_values == scale_values.round()).all()
    for code, item in items.items():
        values = answers.loc[answers["item"] == code, "value"]
        if item["type"] == "choice":
            allowed = {o["value"] for o in item["options"]}
            assert set(values.dropna()) <= allowed, code
            required_missing = values.isna().mean()
            assert required_missing < (0.06 if code == "bg_institution_type" else 1e-9), code
        elif item["type"] == "number":
            assert values.between(item["min"], item["max"]).all(), code
        elif item["type"] == "text":
            assert values.isna().all(), code
    institution = answers[answers["item"] == "bg_institution_type"]["value"]
    assert institution.isna().mean() == pytest.approx(0.04, abs=0.01)


def test_reverse_keyed_items_are_mirrored(cohort, definition):
    items = _items(definition)
    wave1 = cohort.answers[cohort.answers["wave"] == 1].pivot(index="pseudonym", columns="item", values="value")
    reverse = [i for i in items if i.get("reverse")]
    assert {i["code"] for i in reverse} >= {"pers_shy", "pers_introvert", "pers_calm", "cc_unsure_direction"}
    for item in reverse:
        partners = [i["code"] for i in items if i.get("facet") == item["facet"] and not i.get("reverse")]
        r = np.corrcoef(wave1[item["code"]], wave1[partners].mean(axis=1))[0, 1]
        assert r < -0.2, item["code"]


def test_identification_is_linked_to_profile_as_in_the_report(cohort):
    answers = cohort.answers[(cohort.answers["wave"] == 1) & cohort.answers["item"].str.startswith("idn_")]
    score = answers.groupby("pseudonym")["value"].mean()
    profile = cohort.participants.set_index("pseudonym").loc[score.index, "profile_w1"]
    means = score.groupby(profile).mean()
    assert min(means["All-rounder"], means["Innovator"]) > max(means["Einzelgänger"], means["Traditionalist"])


def test_simulation_is_reproducible_and_validates_its_arguments():
    a = simulate_cohort(50, n_waves=2, random_state=3)
    b = simulate_cohort(50, n_waves=2, random_state=3)
    pd.testing.assert_frame_equal(a.answers, b.answers)
    pd.testing.assert_frame_equal(a.participants, b.participants)
    with pytest.raises(ValueError, match="transition"):
        simulate_cohort(10, transition=np.eye(5))
    with pytest.raises(ValueError, match="attrition"):
        simulate_cohort(10, attrition=1.0)


# --- naming -------------------------------------------------------------------------------------------


def test_name_profiles_recovers_the_six_names_from_true_profile_means(true_profile_means):
    named = name_profiles(true_profile_means)
    assert list(named.columns) == ["profile", "name", "similarity", "second_best", "second_best_similarity"]
    assert named["name"].tolist() == list(PROFILE_NAMES)
    assert named["profile"].tolist() == list(PROFILE_NAMES)
    assert (named["similarity"] > 0.6).all()
    assert (named["second_best"] != named["name"]).all()
    assert (named["similarity"] > named["second_best_similarity"]).all()


def test_name_profiles_maps_permuted_anonymous_profiles(true_profile_means):
    order = np.random.default_rng(7).permutation(len(PROFILE_NAMES))
    shuffled = true_profile_means.iloc[order]
    truth = shuffled.index.tolist()
    shuffled = shuffled.set_axis([f"Profile {i + 1}" for i in range(len(order))])
    shuffled = shuffled[list(reversed(FACETS))]  # column order must not matter either
    named = name_profiles(shuffled)
    assert named["profile"].tolist() == shuffled.index.tolist()
    assert named["name"].tolist() == truth


def test_a_random_profile_comes_out_unmatched(true_profile_means):
    rng = np.random.default_rng(11)
    random_row = pd.DataFrame(rng.normal(0, 0.5, (1, len(FACETS))), index=["Profile 7"], columns=list(FACETS))
    named = name_profiles(pd.concat([true_profile_means, random_row])).set_index("profile")
    assert named.loc["Profile 7", "name"] == UNMATCHED
    assert named.drop(index="Profile 7")["name"].tolist() == list(PROFILE_NAMES)
    # On its own, a random profile is matched to its most similar reference profile; the maximum of six
    # correlations of pure noise passes 0.3 about a quarter of the time, but rarely passes 0.5.
    alone = name_profiles(random_row, min_similarity=0.5)
    assert alone.loc[0, "name"] == UNMATCHED
    assert alone.loc[0, "second_best"] in REFERENCE_PROFILES
    noise = pd.DataFrame(rng.normal(0, 0.5, (400, len(FACETS))), columns=list(FACETS))
    best = similarity_matrix(noise).max(axis=1)
    assert (best >= 0.5).mean() < 0.04
    assert (best >= 0.3).mean() < 0.4
    flat = name_profiles(pd.DataFrame(0.0, index=["flat"], columns=list(FACETS)))
    assert flat.loc[0, "name"] == UNMATCHED and flat.loc[0, "similarity"] == 0


def test_similarity_is_one_for_a_reference_signature_and_ignores_other_columns():
    signatures = pd.DataFrame(
        [[p.signature.get(f, 0) for f in FACETS] for p in REFERENCE_PROFILES.values()],
        index=list(REFERENCE_PROFILES),
        columns=list(FACETS),
        dtype=float,
    )
    signatures["weight"] = 99.0
    sim = similarity_matrix(signatures)
    assert np.diag(sim.to_numpy()) == pytest.approx(np.ones(6))
    with pytest.raises(ValueError, match="facet columns"):
        name_profiles(pd.DataFrame({"a": [1.0], "b": [2.0]}))
