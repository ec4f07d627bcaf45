"""Dutch and English texts of the participant pages about enrolment and privacy."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "lang_name": "Nederlands",
        "other_lang": "en",
        "other_lang_name": "English",
        "privacy_title": "Jouw deelname en gegevens",
        "privacy_intro": "Hier regel je hoe je meedoet aan {study}. Je antwoorden worden bewaard onder een "
        "code (pseudoniem); je naam en e-mailadres staan versleuteld en apart daarvan.",
        "status_active": "Je doet mee en ontvangt uitnodigingen voor nieuwe metingen.",
        "status_unsubscribed": "Je ontvangt geen e-mails meer. Je kunt nog wel meedoen via je persoonlijke link.",
        "status_withdrawn": "Je bent gestopt met het onderzoek.",
        "email_title": "E-mailadres wijzigen",
        "email_help": "Verloopt je studentenmail? Geef een ander adres op. Je eerdere antwoorden blijven gekoppeld.",
        "email_label": "Nieuw e-mailadres",
        "email_button": "Adres opslaan",
        "email_done": "Je e-mailadres is gewijzigd.",
        "stop_title": "Geen e-mails meer",
        "stop_help": "Je krijgt geen uitnodigingen en herinneringen meer. Je antwoorden blijven bewaard en je "
        "kunt later nog meedoen.",
        "stop_button": "Stop de e-mails",
        "stop_done": "Je ontvangt geen e-mails meer van dit onderzoek.",
        "withdraw_title": "Stoppen met het onderzoek",
        "withdraw_help_keep": "Je doet niet meer mee aan volgende metingen. Zoals je bij je toestemming hebt "
        "aangegeven, blijven je eerdere antwoorden onder je pseudoniem bewaard voor het onderzoek.",
        "withdraw_help_delete": "Je doet niet meer mee aan volgende metingen. Zoals je bij je toestemming hebt "
        "aangegeven, worden je eerdere antwoorden verwijderd.",
        "withdraw_button": "Ik stop met het onderzoek",
        "withdraw_done": "Je bent gestopt met het onderzoek. Bedankt voor je deelname.",
        "erase_title": "Mijn gegevens wissen",
        "erase_help_keep": "Je naam en e-mailadres worden definitief gewist; we kunnen je daarna niet meer "
        "bereiken. Je antwoorden blijven zonder naam (onder je pseudoniem) bewaard, zoals je bij je "
        "toestemming hebt aangegeven.",
        "erase_help_delete": "Je naam, e-mailadres en al je antwoorden worden definitief gewist.",
        "erase_button": "Wis mijn gegevens",
        "erase_done": "Je gegevens zijn gewist. Deze link werkt niet meer.",
        "confirm": "Weet je het zeker?",
        "cancel": "Terug",
        "invalid_link_title": "Deze link werkt niet",
        "invalid_link": "Deze link is onbekend of niet meer geldig. Gebruik de link uit je laatste e-mail, of "
        "neem contact op met de onderzoekers.",
        "signup_title": "Aanmelden voor {study}",
        "signup_intro": "Meld je aan voor {cohort}. Je krijgt per e-mail een persoonlijke link voor elke meting.",
        "signup_name": "Naam (niet verplicht)",
        "signup_email": "E-mailadres",
        "signup_language": "Taal",
        "signup_consent": "Ik heb de uitleg gelezen en doe vrijwillig mee. Ik mag op elk moment stoppen.",
        "signup_keep": "Als ik later stop, mogen mijn antwoorden zonder naam bewaard blijven voor het onderzoek",
        "signup_keep_yes": "Ja, bewaar ze onder mijn pseudoniem",
        "signup_keep_no": "Nee, verwijder ze",
        "signup_button": "Aanmelden",
        "signup_done_title": "Je bent aangemeld",
        "signup_done": "Bedankt! Je ontvangt een e-mail met je persoonlijke link zodra de volgende meting opent.",
        "signup_already": "Met dit e-mailadres ben je al aangemeld. Je hoeft niets te doen.",
        "signup_closed": "Aanmelden is op dit moment niet mogelijk.",
        "consent_required": "Geef toestemming om mee te doen.",
        "email_invalid": "Vul een geldig e-mailadres in.",
        "name_invalid": "Vul je naam in op één regel, zonder onzichtbare tekens (hoogstens 200 tekens).",
        "closed_title": "Deze meting is gesloten",
        "closed": "Meting {wave} is gesloten sinds {date}. Je krijgt een nieuwe uitnodiging als de volgende "
        "meting opent.",
        "landing_closes": "Deze meting is open tot en met {date}.",
    },
    "en": {
        "lang_name": "English",
        "other_lang": "nl",
        "other_lang_name": "Nederlands",
        "privacy_title": "Your participation and data",
        "privacy_intro": "Here you manage how you take part in {study}. Your answers are stored under a code "
        "(pseudonym); your name and e-mail address are encrypted and kept apart from them.",
        "status_active": "You are taking part and receive invitations to new waves.",
        "status_unsubscribed": "You receive no more e-mails. You can still take part through your personal link.",
        "status_withdrawn": "You have left the study.",
        "email_title": "Change your e-mail address",
        "email_help": "Is your student address about to expire? Give another one. Your earlier answers stay linked.",
        "email_label": "New e-mail address",
        "email_button": "Save address",
        "email_done": "Your e-mail address has been changed.",
        "stop_title": "No more e-mails",
        "stop_help": "You will get no more invitations or reminders. Your answers are kept and you can still "
        "take part later.",
        "stop_button": "Stop the e-mails",
        "stop_done": "You will receive no more e-mails from this study.",
        "withdraw_title": "Leave the study",
        "withdraw_help_keep": "You will not be asked to take part in later waves. As you indicated when you gave "
        "consent, your earlier answers are kept under your pseudonym for the research.",
        "withdraw_help_delete": "You will not be asked to take part in later waves. As you indicated when you "
        "gave consent, your earlier answers are deleted.",
        "withdraw_button": "I am leaving the study",
        "withdraw_done": "You have left the study. Thank you for taking part.",
        "erase_title": "Erase my data",
        "erase_help_keep": "Your name and e-mail address are deleted for good; we can no longer reach you. Your "
        "answers are kept without your name (under your pseudonym), as you indicated when you gave consent.",
        "erase_help_delete": "Your name, e-mail address and all your answers are deleted for good.",
        "erase_button": "Erase my data",
        "erase_done": "Your data have been erased. This link no longer works.",
        "confirm": "Are you sure?",
        "cancel": "Back",
        "invalid_link_title": "This link does not work",
        "invalid_link": "This link is unknown or no longer valid. Use the link in your latest e-mail, or contact "
        "the researchers.",
        "signup_title": "Sign up for {study}",
        "signup_intro": "Sign up for {cohort}. You will receive a personal link by e-mail for each wave.",
        "signup_name": "Name (optional)",
        "signup_email": "E-mail address",
        "signup_language": "Language",
        "signup_consent": "I have read the information and take part voluntarily. I may stop at any time.",
        "signup_keep": "If I stop later, my answers may be kept without my name for the research",
        "signup_keep_yes": "Yes, keep them under my pseudonym",
        "signup_keep_no": "No, delete them",
        "signup_button": "Sign up",
        "signup_done_title": "You have signed up",
        "signup_done": "Thank you! You will receive an e-mail with your personal link when the next wave opens.",
        "signup_already": "You have already signed up with this e-mail address. There is nothing more to do.",
        "signup_closed": "Signing up is not possible at the moment.",
        "consent_required": "Please give your consent to take part.",
        "email_invalid": "Enter a valid e-mail address.",
        "name_invalid": "Enter your name on one line, without invisible characters (at most 200 characters).",
        "closed_title": "This wave has closed",
        "closed": "Wave {wave} closed on {date}. You will get a new invitation when the next wave opens.",
        "landing_closes": "This wave is open until {date}.",
    },
}


def texts_for(language: str | None) -> dict[str, str]:
    """The texts in ``language`` (Dutch when unknown)."""
    return TEXTS.get(language or "nl", TEXTS["nl"])
