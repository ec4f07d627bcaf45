"""Dutch and English texts of the company briefing: headings, what the profiles mean, suggested actions."""

from __future__ import annotations

PROFILE_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    # name: language: (what marks the profile, what an employer can do)
    "Nerd": {
        "en": (
            "Sensitive and introvert; enjoys TV and computers more than going out; values security, comfort and "
            "societal engagement over power and money; strong in research and engineering, less in management.",
            "Offer a specialist career path next to the management ladder, quiet focused work, and recognition "
            "for technical depth; link their work to its societal use.",
        ),
        "nl": (
            "Gevoelig en introvert; kijkt liever tv of zit achter de computer dan uitgaan; hecht aan zekerheid, "
            "comfort en maatschappelijke betrokkenheid, niet aan macht en geld; sterk in onderzoek en engineering.",
            "Bied een vakinhoudelijk carrièrepad naast de managementladder, ruimte voor geconcentreerd werk en "
            "waardering voor technische diepgang; laat zien waar hun werk maatschappelijk toe bijdraagt.",
        ),
    },
    "Einzelgänger": {
        "en": (
            "Introvert and conservative; prefers TV and computers to socialising and clubs; values security and "
            "comfort over challenge; strong in research and engineering, prefers working alone.",
            "Give clear, stable technical roles with autonomy; keep team work purposeful and small; watch their "
            "identification with the profession, which is lowest in this profile.",
        ),
        "nl": (
            "Introvert en behoudend; kijkt liever tv of zit achter de computer dan sociale activiteiten; hecht "
            "aan zekerheid en comfort, minder aan uitdaging; sterk in onderzoek en engineering, werkt graag alleen.",
            "Geef duidelijke, stabiele technische functies met autonomie; houd samenwerking doelgericht en "
            "kleinschalig; let op hun verbondenheid met het vak, die in dit profiel het laagst is.",
        ),
    },
    "Traditionalist": {
        "en": (
            "Agreeable and modest; active in clubs and volunteering; values family, tradition, healthy living and "
            "security; strong in organising, less in research and engineering.",
            "Value their organising role; offer predictable hours and a good work-life balance; role models from "
            "the field help them see themselves as engineers.",
        ),
        "nl": (
            "Meegaand en bescheiden; actief in verenigingen en vrijwilligerswerk; hecht aan familie, traditie, "
            "gezond leven en zekerheid; sterk in organiseren, minder in onderzoek en engineering.",
            "Waardeer hun organiserende rol; bied voorspelbare tijden en een goede balans werk-privé; "
            "rolmodellen uit het vak helpen hen zichzelf als technicus te zien.",
        ),
    },
    "Innovator": {
        "en": (
            "Extravert, friendly and open-minded; engaged with society; seeks challenge and societal welfare; "
            "strong in international work, managing, research and team work.",
            "Give challenging, varied projects with societal impact and room to lead and innovate; the smallest "
            "profile, and easily lost to other sectors when the work climate is routine.",
        ),
        "nl": (
            "Extravert, vriendelijk en ruimdenkend; maatschappelijk betrokken; zoekt uitdaging en maatschappelijk "
            "welzijn; sterk in internationaal werken, managen, onderzoek en samenwerken.",
            "Geef uitdagende, afwisselende projecten met maatschappelijke impact en ruimte om te leiden en te "
            "vernieuwen; het kleinste profiel, en snel weg bij een routinematig werkklimaat.",
        ),
    },
    "All-rounder": {
        "en": (
            "Open-minded, extravert and conscientious; sociable and engaged; values challenge, welfare, health "
            "and the environment; strong in management, team work, international work and research.",
            "Offer broad roles that combine technique with people and society, and contact with the field; "
            "they identify strongly with the profession and make good role models.",
        ),
        "nl": (
            "Ruimdenkend, extravert en consciëntieus; sociaal en betrokken; hecht aan uitdaging, welzijn, "
            "gezondheid en milieu; sterk in management, samenwerken, internationaal werken en onderzoek.",
            "Bied brede functies die techniek combineren met mensen en maatschappij, en contact met het werkveld; "
            "zij voelen zich sterk verbonden met het vak en zijn goede rolmodellen.",
        ),
    },
    "Status Seeker": {
        "en": (
            "Extravert and self-assured; values power, money and status; strong in managing and leading, less "
            "in research.",
            "Make career steps, pay and responsibility visible; they most often intend to stay in the technical "
            "sector when the sector offers them a route to leadership.",
        ),
        "nl": (
            "Extravert en zelfverzekerd; hecht aan macht, geld en status; sterk in managen en leidinggeven, "
            "minder in onderzoek.",
            "Maak loopbaanstappen, beloning en verantwoordelijkheid zichtbaar; zij willen het vaakst in de "
            "technische sector blijven als die hun een weg naar leiderschap biedt.",
        ),
    },
}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Briefing",
        "subtitle": "Professional identity of your technical staff",
        "for_sample": "All participating organisations",
        "contents": "Contents",
        "wave": "Wave {wave}",
        "generated": "Generated on {date}",
        "summary": "Summary",
        "summary_text": "{n} people of {organisation} completed wave {wave} of {study}, beside {n_sample} "
        "participants in all.",
        "summary_sample": "{n_sample} participants completed wave {wave} of {study}.",
        "below_threshold": "Fewer than {min_cell} people of {organisation} took part in this wave, so figures "
        "for your organisation cannot be shown without the risk of recognising individuals. Every section "
        "shows the figures of all participants instead.",
        "all_left_out": "The {n} people of {organisation} are spread over groups of fewer than {min_cell} "
        "people each, so none of your organisation's tables can be shown without the risk of recognising "
        "individuals. Every section shows the figures of all participants instead.",
        "own_too_small": "Figures for {organisation} itself are not shown here: fewer than {min_cell} of its "
        "people took part in this wave. The figures are those of all participants.",
        "own_left_out": "The table for {organisation} itself is left out: nearly every figure in it rests on "
        "fewer than {min_cell} people and would be hidden.",
        "own_left_out_by_job": "The table for {organisation} itself by job type is left out: nearly every "
        "figure in it rests on fewer than {min_cell} people and would be hidden.",
        "sample_left_out": "This table is left out: nearly every figure in it rests on fewer than {min_cell} "
        "people and would be hidden.",
        "by_job_of": "{who}, by job type",
        "per_job": "Number of participants per job type",
        "stayed_sample": "{share} of all participants who took part in both waves kept the same profile.",
        "profiles": "Profiles",
        "profiles_text": "Each participant is assigned the professional profile their answers resemble most "
        "(latent profile analysis of 30 facets of interests, values, competences, goals and personality).",
        "by_job": "Profiles by job type",
        "movement": "Movement since wave {wave}",
        "stayed": "{share} of your people who took part in both waves kept the same profile.",
        "identification": "Identification and career",
        "future": "Intention to stay in the technical sector",
        "meanings": "What the profiles mean, and what you can do",
        "findings": "What Mind the Gap! found (2016, 863 alumni): 37% worked in a technical job in the technical "
        "sector, 31% in a non-technical job in it. Identification with the profession was highest among "
        "All-rounders and Innovators and lowest among Einzelgängers and Traditionalists. Most intended to stay in "
        "the technical sector, from 98% of Status Seekers and 89% of Nerds and Einzelgängers to 83-84% of "
        "Traditionalists, All-rounders and Innovators; people in non-technical jobs were 5.9 times as likely to "
        "intend to leave, so career paths that keep technique in reach matter most for them.",
        "method": "Method",
        "method_text": "Profiles come from a latent profile and latent transition analysis of all participants "
        "(analysis {analysis}). To protect the privacy of participants, every figure based on fewer than "
        "{min_cell} people is replaced by \u2013, and where needed a second figure too, so that a hidden "
        "number cannot be worked out from totals or from the briefing of another wave. No names, e-mail "
        "addresses or individual answers are ever shared with employers. A table is left out, with a sentence "
        "in its place, when fewer than a quarter of its cells (or fewer than two) could be shown, or only "
        "zeros: nearly everything in it would be hidden. Zeros are shown, also beside hidden figures: a group "
        "of nobody says nothing about any person.",
        "organisation": "Your organisation",
        "sample": "All participants",
        "technical": "Technical job",
        "non_technical": "Non-technical job",
        "other": "Other job",
        "inside": "Inside",
        "outside": "Outside",
        "unsure": "Don't know",
        "total": "Total",
        "identification_scale": "Identification with the profession",
        "career_clarity": "Career clarity",
        "career_commitment": "Career commitment",
        "career_exploration": "Career exploration",
        "scale_note": "Means on a scale of 1 to 7.",
        "hidden": "\u2013",
        "from_to": "From \\ to",
        "page": "Page",
    },
    "nl": {
        "title": "Briefing",
        "subtitle": "Professionele identiteit van uw technische medewerkers",
        "for_sample": "Alle deelnemende organisaties",
        "contents": "Inhoud",
        "wave": "Meting {wave}",
        "generated": "Gemaakt op {date}",
        "summary": "Samenvatting",
        "summary_text": "{n} medewerkers van {organisation} vulden meting {wave} van {study} in, naast {n_sample} "
        "deelnemers in totaal.",
        "summary_sample": "{n_sample} deelnemers vulden meting {wave} van {study} in.",
        "below_threshold": "Minder dan {min_cell} medewerkers van {organisation} deden mee aan deze meting. "
        "Cijfers over uw organisatie kunnen daarom niet worden getoond zonder risico dat personen herkenbaar "
        "worden. Elk onderdeel toont in plaats daarvan de cijfers van alle deelnemers.",
        "all_left_out": "De {n} medewerkers van {organisation} zijn verdeeld over groepen van elk minder dan "
        "{min_cell} personen. Geen tabel over uw organisatie kan daarom worden getoond zonder risico dat "
        "personen herkenbaar worden. Elk onderdeel toont in plaats daarvan de cijfers van alle deelnemers.",
        "own_too_small": "Cijfers van {organisation} zelf staan hier niet: minder dan {min_cell} van de "
        "medewerkers deden mee aan deze meting. De cijfers zijn die van alle deelnemers.",
        "own_left_out": "De tabel van {organisation} zelf is weggelaten: bijna elk cijfer erin berust op minder "
        "dan {min_cell} personen en zou verborgen zijn.",
        "own_left_out_by_job": "De tabel van {organisation} zelf naar soort functie is weggelaten: bijna elk "
        "cijfer erin berust op minder dan {min_cell} personen en zou verborgen zijn.",
        "sample_left_out": "Deze tabel is weggelaten: bijna elk cijfer erin berust op minder dan {min_cell} "
        "personen en zou verborgen zijn.",
        "by_job_of": "{who}, naar soort functie",
        "per_job": "Aantal deelnemers per soort functie",
        "stayed_sample": "{share} van alle deelnemers die aan beide metingen meededen, hield hetzelfde profiel.",
        "profiles": "Profielen",
        "profiles_text": "Iedere deelnemer krijgt het professionele profiel waar de antwoorden het meest op "
        "lijken (latente-profielanalyse van 30 facetten van interesses, waarden, competenties, doelen en "
        "persoonlijkheid).",
        "by_job": "Profielen naar soort functie",
        "movement": "Verschuivingen sinds meting {wave}",
        "stayed": "{share} van uw medewerkers die aan beide metingen meededen, hield hetzelfde profiel.",
        "identification": "Verbondenheid en loopbaan",
        "future": "Voornemen om in de technische sector te blijven",
        "meanings": "Wat de profielen betekenen, en wat u kunt doen",
        "findings": "Wat Mind the Gap! vond (2016, 863 alumni): 37% werkte in een technische functie in de "
        "technische sector, 31% in een niet-technische functie daarin. De verbondenheid met het beroep was het "
        "grootst bij All-rounders en Innovators en het kleinst bij Einzelgängers en Traditionalists. De meesten "
        "wilden in de technische sector blijven, van 98% van de Status Seekers en 89% van de Nerds en "
        "Einzelgängers tot 83-84% van de Traditionalists, All-rounders en Innovators; wie een niet-technische "
        "functie had, was 5,9 keer zo geneigd te vertrekken: loopbaanpaden die de techniek binnen bereik houden, "
        "doen er voor hen het meest toe.",
        "method": "Werkwijze",
        "method_text": "De profielen komen uit een latente-profiel- en latente-transitieanalyse van alle "
        "deelnemers (analyse {analysis}). Om de privacy van deelnemers te beschermen is elk cijfer dat op "
        "minder dan {min_cell} personen berust vervangen door \u2013, en waar nodig ook een tweede cijfer, "
        "zodat een verborgen getal niet uit totalen of uit de briefing van een andere meting is af te leiden. "
        "Namen, e-mailadressen of individuele antwoorden worden nooit met werkgevers gedeeld. Een tabel wordt "
        "weggelaten, met een zin op haar plaats, als minder dan een kwart van de cellen (of minder dan twee) "
        "getoond kan worden, of alleen nullen: bijna alles erin zou verborgen zijn. Nullen worden wel getoond, "
        "ook naast verborgen cijfers: een groep van niemand zegt niets over een persoon.",
        "organisation": "Uw organisatie",
        "sample": "Alle deelnemers",
        "technical": "Technische functie",
        "non_technical": "Niet-technische functie",
        "other": "Andere functie",
        "inside": "Binnen",
        "outside": "Buiten",
        "unsure": "Weet niet",
        "total": "Totaal",
        "identification_scale": "Verbondenheid met het beroep",
        "career_clarity": "Duidelijkheid over loopbaan",
        "career_commitment": "Loopbaancommitment",
        "career_exploration": "Loopbaanverkenning",
        "scale_note": "Gemiddelden op een schaal van 1 tot 7.",
        "hidden": "\u2013",
        "from_to": "Van \\ naar",
        "page": "Pagina",
    },
}
