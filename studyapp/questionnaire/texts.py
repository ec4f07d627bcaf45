"""Texts of the questionnaire and feedback pages, from the gettext catalogues."""

from __future__ import annotations

from flask_babel import force_locale, pgettext
from flask_babel import gettext as _

from studyapp.participants.texts import LANGUAGES, texts_for


def questionnaire_texts(language: str | None) -> dict[str, str]:
    """The participant pages' texts plus the questionnaire's, in ``language`` (Dutch when unknown)."""
    chosen = language if language in LANGUAGES else "nl"
    with force_locale(chosen):
        texts = _texts()
    return {**texts_for(chosen), **texts}


def _texts() -> dict[str, str]:
    return {
        "welcome_title": _("Welcome to wave {wave}"),
        "welcome_intro": _(
            "Thank you for taking part in {study}. The questionnaire {instrument} has {pages} short "
            "pages and takes about {minutes} minutes."
        ),
        "welcome_saving": _(
            "Your answers are saved as you go. If you stop half-way, the same link takes you back to "
            "where you were, on any device."
        ),
        "welcome_start": _("Start the questionnaire"),
        "welcome_continue": _("Continue where you were"),
        "welcome_progress": _("You have answered {answered} of {total} questions."),
        "manage": _("Manage your participation and data"),
        "manage_help": _("Stop the e-mails, leave the study or have your data erased."),
        "page_of": _("Page {number} of {total}"),
        "progress_label": _("Progress"),
        "back": pgettext("previous page", "Back"),
        "next": _("Next"),
        "to_review": _("Review your answers"),
        "optional_mark": _("optional"),
        "error_summary": _("Some answers need your attention"),
        "missing": _("Please answer this question."),
        "number_invalid": _("Enter a whole number, without letters or symbols."),
        "number_range": _("Enter a number from {min} to {max}."),
        "number_hint": _("A number from {min} to {max}"),
        "saved": _("Saved"),
        "saving": _("Saving…"),
        "save_failed": _("Not saved: no connection. We will try again; your answers stay on this page."),
        "shown_if": _("Only if you chose '{answers}' above."),
        "review_title": _("Check your answers"),
        "review_intro": _(
            "Below are your answers, page by page. Is everything right? Then submit your answers. "
            "After that you can no longer change them."
        ),
        "review_missing": _("{count} required answers are still missing on this page."),
        "review_complete": _("Complete"),
        "review_answered": _("{answered} of {total} answered"),
        "review_change": _("Change"),
        "review_show": _("Show answers"),
        "not_answered": _("not answered"),
        "submit": _("Submit my answers"),
        "submit_missing": _("Some required answers are still missing. Please fill them in first."),
        "completed_title": _("Thank you!"),
        "completed": _("You completed the questionnaire of wave {wave} on {date}. Your answers have been saved."),
        "see_feedback": _("See your personal feedback"),
        "tampered_title": _("We cannot process these data"),
        "tampered": _(
            "The form held answers that do not belong to this questionnaire. Nothing from this page "
            "was saved. Please go back and try again."
        ),
        "feedback_title": _("Your personal feedback"),
        "feedback_intro": _(
            "Based on your answers in wave {wave}. Your scores are shown beside those of all {n} "
            "participants who have completed the questionnaire so far."
        ),
        "feedback_intro_scale": _(
            "Based on your answers in wave {wave}. Too few people have taken part yet to compare you "
            "with the group, so your scores are shown beside the middle of the scale."
        ),
        "feedback_profile": _("The profile that resembles you most"),
        "feedback_profile_none": _(
            "Your answers do not clearly resemble one of the six profiles. That is fine: many people "
            "combine features of several profiles."
        ),
        "feedback_similarity": _("Similarity {similarity}"),
        "feedback_you_high": _("Like this profile, you score high on"),
        "feedback_you_low": _("Like this profile, you score low on"),
        "feedback_runner_up": _("Next, you most resemble: {names}."),
        "feedback_career": _("Your career"),
        "feedback_facets": _("Your scores by topic"),
        "feedback_facets_help": _("A score from 1 to 7. The bar is your score, the line the group's average."),
        "feedback_facets_help_scale": _("A score from 1 to 7; the bar is your score."),
        "feedback_you": _("You"),
        "feedback_sample": _("Average"),
        "feedback_percentile": _("Higher than {p} of participants"),
        "feedback_movement": _("What changed since wave {wave}"),
        "feedback_profile_moved": _("Last time you most resembled {previous}; now {current}."),
        "feedback_profile_same": _("You still most resemble {current}."),
        "feedback_no_changes": _("Your scores hardly changed (less than half a point on every topic)."),
        "feedback_up": _("higher"),
        "feedback_down": _("lower"),
        "feedback_pdf": _("Download as PDF"),
        "feedback_note": _(
            "This feedback is a tool for thinking about your career, not a judgement. The profiles "
            "come from the Mind the Gap! study (2016) among science and engineering alumni."
        ),
        "unmatched": _("no clear profile"),
        "score": _("Score"),
        "change": pgettext("difference", "Change"),
        "previous": _("Last time"),
        "now": _("Now"),
        "domain_interests": _("Interests"),
        "domain_values": _("Values"),
        "domain_competences": _("Competences"),
        "domain_goals": _("Goals"),
        "domain_personality": _("Personality"),
        "domain_identification": _("Identification with your profession"),
        "domain_career": _("Career"),
        "domain_stigma": _("Gender at work"),
    }
