"""Whether a cohort has enough submitted responses for the analysis asked, checked when it is queued."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func
from sqlmodel import Session, col, select

from analysis.lpa.guard import min_profile_size
from studyapp.analyses.compute import MIN_OBSERVATIONS, AnalysisParameters, usable_scores
from studyapp.analyses.data import cohort_data
from studyapp.core.models import Cohort, Instrument, Invitation, Response, Wave

#: With this many times the submitted responses needed, the usable ones are not counted (that scores the
#: whole cohort): a cohort where fewer than a tenth are usable still gets the analysis's own "too few" note.
USABLE_CHECK_BELOW = 10


def responses_needed(parameters: AnalysisParameters, n_indicators: int) -> int:
    """The fewest submitted responses (participant x wave) an analysis with ``parameters`` can be fitted on.

    The largest of three rules, each from the code that fits the profiles:

    * :data:`studyapp.analyses.compute.MIN_OBSERVATIONS` (30): below it ``run_analysis`` fits nothing and
      only describes the cohort;
    * more responses than profiles: ``analysis.validation.check_n_profiles`` refuses K >= the rows;
    * every one of the ``k_max`` profiles must be able to hold the observations it needs for its own
      covariance (``analysis.lpa.guard.min_profile_size``: 1 for shared covariances (EEI, EEE), 2 for
      per-profile variances (VVI), indicators + 1 for a full per-profile covariance (VVV)); a solution
      with a smaller profile is set aside as spurious, so with fewer responses the largest K asked can
      never be recommended.
    """
    per_profile = max(min_profile_size(p, n_indicators) for p in parameters.parameterisations)
    return max(MIN_OBSERVATIONS, parameters.k_max + 1, parameters.k_max * per_profile)


def profile_indicators(*, session: Session, cohort: Cohort) -> int:
    """How many profile indicators (facets of kind 'facet') the cohort's first wave's instrument scores."""
    instrument_id = session.exec(
        select(Wave.instrument_id).where(Wave.cohort_id == cohort.id).order_by(col(Wave.position)).limit(1)
    ).first()
    if instrument_id is None:
        return 0
    instrument = session.get_one(Instrument, instrument_id)
    return sum(1 for facet in instrument.definition.get("facets", []) if facet.get("kind") == "facet")


def submitted_responses(*, session: Session, cohort: Cohort) -> int:
    """Submitted responses to the cohort's waves (one per participant and wave), counted in the database."""
    return session.exec(
        select(func.count())
        .select_from(Response)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .where(Wave.cohort_id == cohort.id, col(Response.submitted_at).is_not(None))
    ).one()


def usable_responses(*, session: Session, cohort: Cohort) -> int:
    """Submitted responses the profile models can use: scored as the analysis scores them
    (:func:`studyapp.analyses.compute.usable_scores`), so the check and the fit never disagree."""
    data = cohort_data(session=session, cohort=cohort)
    indicators = data.identity_facets
    if len(indicators) < 3:
        return 0
    return len(usable_scores(data.scores, indicators))


def shortfall(*, session: Session, cohort: Cohort, parameters: AnalysisParameters) -> str | None:
    """Why ``cohort`` cannot be analysed with ``parameters`` yet (responses needed and there), or None."""
    if session.exec(select(Wave.id).where(Wave.cohort_id == cohort.id).limit(1)).first() is None:
        return _("%(cohort)s has no waves yet, so no responses to analyse.", cohort=cohort.name)
    n_indicators = profile_indicators(session=session, cohort=cohort)
    needed = responses_needed(parameters, n_indicators)
    there = submitted_responses(session=session, cohort=cohort)
    if there >= needed:
        # enough submitted: are there enough the models can use? (the cheap count above refuses first)
        if there >= USABLE_CHECK_BELOW * needed and n_indicators >= 3:
            return None  # scoring a national panel's cohort on every queue and tick costs seconds
        usable = usable_responses(session=session, cohort=cohort)
        if usable >= needed:
            return None
        return ngettext(
            "%(cohort)s has %(num)d usable response (submitted, with answers to at least half of the profile "
            "indicators) of %(submitted)d submitted; "
            "this analysis (up to %(k_max)d profiles, %(parameterisations)s) needs at least %(needed)d.",
            "%(cohort)s has %(num)d usable responses (submitted, with answers to at least half of the profile "
            "indicators) of %(submitted)d submitted; "
            "this analysis (up to %(k_max)d profiles, %(parameterisations)s) needs at least %(needed)d.",
            usable,
            cohort=cohort.name,
            submitted=there,
            k_max=parameters.k_max,
            parameterisations=", ".join(parameters.parameterisations),
            needed=needed,
        )
    return ngettext(
        "%(cohort)s has %(num)d submitted response; "
        "this analysis (up to %(k_max)d profiles, %(parameterisations)s) needs at least %(needed)d.",
        "%(cohort)s has %(num)d submitted responses; "
        "this analysis (up to %(k_max)d profiles, %(parameterisations)s) needs at least %(needed)d.",
        there,
        cohort=cohort.name,
        k_max=parameters.k_max,
        parameterisations=", ".join(parameters.parameterisations),
        needed=needed,
    )
