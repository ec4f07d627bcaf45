"""Texts of the participant pages about enrolment and privacy, from the gettext catalogues."""

from __future__ import annotations

from babel import Locale
from flask import has_request_context
from flask_babel import force_locale, pgettext
from flask_babel import gettext as _

from studyapp.extensions import LANGUAGES, use_language


def texts_for(language: str | None) -> dict[str, str]:
    """The participant pages' texts in ``language`` (Dutch when unknown), keyed by the templates' names.

    In a request, ``language`` becomes the request's language too, so that the page's other texts (form
    errors, dates, ``<html lang>``) follow the participant's language rather than the browser's.
    """
    chosen = language if language in LANGUAGES else "nl"
    if has_request_context():
        use_language(chosen)
    other = "en" if chosen == "nl" else "nl"
    with force_locale(chosen):
        texts = _texts()
    # each language is named in itself: a reader who needs the switch may not read the current language
    names = {
        "lang_name": str(Locale(chosen).display_name),
        "other_lang": other,
        "other_lang_name": str(Locale(other).display_name),
    }
    return {**names, **texts}


def _texts() -> dict[str, str]:
    return {
        "privacy_title": _("Your participation and data"),
        "privacy_intro": _(
            "Here you manage how you take part in {study}. Your answers are stored under a code "
            "(pseudonym); your name and e-mail address are encrypted and kept apart from them."
        ),
        "status_active": _("You are taking part and receive invitations to new waves."),
        "status_unsubscribed": _("You receive no more e-mails. You can still take part through your personal link."),
        "status_withdrawn": _("You have left the study."),
        "own_data_title": _("See your data"),
        "own_data_help": _(
            "Everything the study keeps about you: your answers to every wave, your consent and the e-mails "
            "sent to you, to read or to download (PDF, JSON or CSV)."
        ),
        "email_title": _("Change your e-mail address"),
        "email_help": _("Is your student address about to expire? Give another one. Your earlier answers stay linked."),
        "email_label": _("New e-mail address"),
        "email_button": _("Save address"),
        "email_done": _("Your e-mail address has been changed."),
        "stop_title": _("No more e-mails"),
        "stop_help": _(
            "You will get no more invitations or reminders. Your answers are kept and you can still take part later."
        ),
        "stop_button": _("Stop the e-mails"),
        "stop_done": _("You will receive no more e-mails from this study."),
        "withdraw_title": _("Leave the study"),
        "withdraw_help_keep": _(
            "You will not be asked to take part in later waves. As you indicated when you gave "
            "consent, your earlier answers are kept under your pseudonym for the research."
        ),
        "withdraw_help_delete": _(
            "You will not be asked to take part in later waves. As you indicated when you gave "
            "consent, your earlier answers are deleted."
        ),
        "withdraw_button": _("I am leaving the study"),
        "withdraw_done": _("You have left the study. Thank you for taking part."),
        "erase_title": _("Erase my data"),
        "erase_help_keep": _(
            "Your name and e-mail address are deleted for good; we can no longer reach you. Your "
            "answers are kept without your name (under your pseudonym), as you indicated when you "
            "gave consent."
        ),
        "erase_help_delete": _("Your name, e-mail address and all your answers are deleted for good."),
        "erase_button": pgettext("button", "Erase my data"),
        "erase_done": _("Your data have been erased. This link no longer works."),
        "confirm": _("Are you sure?"),
        "cancel": _("Back"),
        "invalid_link_title": _("This link does not work"),
        "invalid_link": _(
            "This link is unknown or no longer valid. Use the link in your latest e-mail, or contact the researchers."
        ),
        "signup_title": _("Sign up for {study}"),
        "signup_intro": _("Sign up for {cohort}. You will receive a personal link by e-mail for each wave."),
        "signup_name": _("Name (optional)"),
        "signup_email": _("E-mail address"),
        "signup_language": _("Language"),
        "signup_consent": _("I have read the information and take part voluntarily. I may stop at any time."),
        "signup_keep": _("If I stop later, my answers may be kept without my name for the research"),
        "signup_keep_yes": _("Yes, keep them under my pseudonym"),
        "signup_keep_no": _("No, delete them"),
        "signup_button": _("Sign up"),
        "signup_done_title": _("You have signed up"),
        "signup_done": _("Thank you! You will receive an e-mail with your personal link when the next wave opens."),
        "signup_already": _("You have already signed up with this e-mail address. There is nothing more to do."),
        "signup_closed": _("Signing up is not possible at the moment."),
        "consent_required": _("Please give your consent to take part."),
        "email_invalid": _("Enter a valid e-mail address."),
        "name_invalid": _("Enter your name on one line, without invisible characters (at most 200 characters)."),
        "closed_title": _("This wave has closed"),
        "closed": _("Wave {wave} closed on {date}. You will get a new invitation when the next wave opens."),
        "landing_closes": _("This wave is open until {date}."),
        "skip_link": _("Skip to content"),
        "footer": _("a follow-up of the Mind the Gap! study"),
    }
