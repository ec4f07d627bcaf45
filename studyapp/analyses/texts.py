"""The analysis package's English notes and reasons in the reader's language, where they are shown.

:mod:`analysis` is the lowest layer and knows neither Flask nor the catalogues: it writes its notes (the
recommendation's reason, a model's warnings, a reliability or distal note) in English, and results are
stored that way. This module recognises each sentence the package writes by its wording, keeps its
numbers and names as they are, and gives the catalogue's translation. A sentence it does not know stays
English (``tests/test_i18n.py`` fits a model that says each known one and reads them back in Dutch).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext

from studyapp.extensions import N_

_NUMBER = r"-?[\d.,]+(?:e[-+]?\d+)?"

# (pattern, msgid): a pattern matches one sentence at the start of what is left; its named groups are the
# msgid's values. Values whose names end in "_text" are themselves notes and are translated too.
_SENTENCES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), msgid)
    for pattern, msgid in (
        (
            rf"BIC is lowest for (?P<model>\S+) with K = (?P<k>\d+) \(BIC (?P<bic>{_NUMBER})\); "
            rf"next best K = (?P<next>\d+) \((?P<next_bic>{_NUMBER})\)\.",
            N_("BIC is lowest for %(model)s with K = %(k)s (BIC %(bic)s); next best K = %(next)s (%(next_bic)s)."),
        ),
        (
            rf"BIC is lowest for (?P<model>\S+) with K = (?P<k>\d+) \(BIC (?P<bic>{_NUMBER})\)\.",
            N_("BIC is lowest for %(model)s with K = %(k)s (BIC %(bic)s)."),
        ),
        (
            r"Not considered, as every solution found was spurious: (?P<models>.+?)\.(?= |$)",
            N_("Not considered, as every solution found was spurious: %(models)s."),
        ),
        (
            r"BIC still falls at the largest K fitted: fit more profiles before deciding\.",
            N_("BIC still falls at the largest K fitted: fit more profiles before deciding."),
        ),
        (
            rf"The bootstrapped LRT agrees: K = (?P<k>\d+) improves on K = (?P<previous>\d+) "
            rf"\(BLRT p = (?P<p>{_NUMBER})\) and K = (?P<next>\d+) does not \(p = (?P<p_next>{_NUMBER})\)\.",
            N_(
                "The bootstrapped LRT agrees: K = %(k)s improves on K = %(previous)s (BLRT p = %(p)s) "
                "and K = %(next)s does not (p = %(p_next)s)."
            ),
        ),
        (
            rf"The bootstrapped LRT agrees: K = (?P<k>\d+) improves on K = (?P<previous>\d+) "
            rf"\(BLRT p = (?P<p>{_NUMBER})\)\.",
            N_("The bootstrapped LRT agrees: K = %(k)s improves on K = %(previous)s (BLRT p = %(p)s)."),
        ),
        (
            rf"The bootstrapped LRT disagrees: it first fails to improve at K = (?P<first>\d+) "
            rf"\(p = (?P<p>{_NUMBER})\), which points to K = (?P<choice>\d+)\. BIC and BLRT performed best in "
            r"Nylund, Asparouhov & Muthén \(2007\); weigh the profiles' interpretation, the smallest profile "
            r"and the entropy\.",
            N_(
                "The bootstrapped LRT disagrees: it first fails to improve at K = %(first)s (p = %(p)s), which "
                "points to K = %(choice)s. BIC and BLRT performed best in Nylund, Asparouhov & Muthén (2007); "
                "weigh the profiles' interpretation, the smallest profile and the entropy."
            ),
        ),
        (
            r"The bootstrapped LRT disagrees: every K up to (?P<k>\d+) improves significantly, which points to "
            r"K = (?P<choice>\d+)\. BIC and BLRT performed best in Nylund, Asparouhov & Muthén \(2007\); weigh "
            r"the profiles' interpretation, the smallest profile and the entropy\.",
            N_(
                "The bootstrapped LRT disagrees: every K up to %(k)s improves significantly, which points to "
                "K = %(choice)s. BIC and BLRT performed best in Nylund, Asparouhov & Muthén (2007); weigh the "
                "profiles' interpretation, the smallest profile and the entropy."
            ),
        ),
        (
            r"No bootstrapped LRT was run \(bootstrap=0\), so BIC alone decides\.",
            N_("No bootstrapped LRT was run (bootstrap=0), so BIC alone decides."),
        ),
        (r"Note on this model: (?P<notes_text>.+)$", N_("Note on this model: %(notes_text)s")),
        (
            r"EM did not converge within max_iter=(?P<n>\d+) iterations\.",
            N_("EM did not converge within max_iter=%(n)s iterations."),
        ),
        (
            r"(?P<n>\d+) row\(s\) without any observed indicator were dropped\.",
            N_("%(n)s row(s) without any observed indicator were dropped."),
        ),
        (
            r"Every solution the starts found is spurious: (?P<reason_text>.+?)\. Do not interpret this model: "
            r"fit fewer profiles or a more constrained parameterisation\.",
            N_(
                "Every solution the starts found is spurious: %(reason_text)s. Do not interpret this model: fit "
                "fewer profiles or a more constrained parameterisation."
            ),
        ),
        (
            rf"A higher log-likelihood \((?P<loglik>{_NUMBER})\) was reached by a spurious solution and set "
            r"aside: (?P<reason_text>.+?)\. This is the best regular solution\.",
            N_(
                "A higher log-likelihood (%(loglik)s) was reached by a spurious solution and set aside: "
                "%(reason_text)s. This is the best regular solution."
            ),
        ),
        (
            rf"The best log-likelihood \((?P<loglik>{_NUMBER})\) was reached by only 1 of (?P<n>\d+) starts "
            r"iterated to convergence \((?P<run>\d+) run; random starts were added up to max_starts\): it may "
            r"be a local maximum\. Increase n_starts or max_starts\.",
            N_(
                "The best log-likelihood (%(loglik)s) was reached by only 1 of %(n)s starts iterated to "
                "convergence (%(run)s run; random starts were added up to max_starts): it may be a local "
                "maximum. Increase n_starts or max_starts."
            ),
        ),
        # the spurious-solution guard's reasons, joined by "; "
        (
            rf"profile (?P<profile>\d+) has (?P<size>{_NUMBER}) members by posterior mass, fewer than the "
            rf"(?P<need>{_NUMBER}) its covariance needs",
            N_(
                "profile %(profile)s has %(size)s members by posterior mass, "
                "fewer than the %(need)s its covariance needs"
            ),
        ),
        (
            rf"the shared covariance's variance of (?P<indicator>'[^']*') is at the floor "
            rf"\((?P<value>{_NUMBER}) of the overall variance\)",
            N_("the shared covariance's variance of %(indicator)s is at the floor (%(value)s of the overall variance)"),
        ),
        (
            rf"profile (?P<profile>\d+)'s variance of (?P<indicator>'[^']*') is at the floor "
            rf"\((?P<value>{_NUMBER}) of the overall variance\)",
            N_("profile %(profile)s's variance of %(indicator)s is at the floor (%(value)s of the overall variance)"),
        ),
        (
            rf"the shared covariance's covariance matrix's smallest eigenvalue is at the floor "
            rf"\((?P<value>{_NUMBER}) of the overall variance\)",
            N_(
                "the shared covariance's covariance matrix's smallest eigenvalue is at the floor "
                "(%(value)s of the overall variance)"
            ),
        ),
        (
            rf"profile (?P<profile>\d+)'s covariance matrix's smallest eigenvalue is at the floor "
            rf"\((?P<value>{_NUMBER}) of the overall variance\)",
            N_(
                "profile %(profile)s's covariance matrix's smallest eigenvalue is at the floor "
                "(%(value)s of the overall variance)"
            ),
        ),
        # reliability notes
        (r"fewer than 2 items", N_("fewer than 2 items")),
        (r"only (?P<n>\d+) complete rows", N_("only %(n)s complete rows")),
        (r"an item or the sum score has no variance", N_("an item or the sum score has no variance")),
        # the distal outcomes' notes
        (
            r"no participant with an observed outcome is modally assigned to (?P<profile>.+)$",
            N_("no participant with an observed outcome is modally assigned to %(profile)s"),
        ),
        (
            r"some BCH weights are negative, as is usual with classification error",
            N_("some BCH weights are negative, as is usual with classification error"),
        ),
        (
            r"standard errors from the observed information with D fixed \(step-1 uncertainty ignored\)",
            N_("standard errors from the observed information with D fixed (step-1 uncertainty ignored)"),
        ),
        (r"the outcome is not in this instrument", N_("the outcome is not in this instrument")),
        # the app's own message when nothing was fitted (stored with the result, so recognised like the rest)
        (
            r"Too few submitted responses \(at least (?P<n>\d+) needed\) for profile analyses\.",
            N_("Too few submitted responses (at least %(n)s needed) for profile analyses."),
        ),
    )
)
# what separates the sentences of one note
_SEPARATOR = re.compile(r"(?: |; )")


def analysis_text(text: str | None, translate: Callable[..., str] = gettext) -> str:
    """``text`` (a note the analysis package wrote in English) in the reader's language, sentence by
    sentence; what no pattern knows is kept as it is."""
    if not text:
        return ""
    out: list[str] = []
    position = 0
    while position < len(text):
        for pattern, msgid in _SENTENCES:
            match = pattern.match(text, position)
            if match is not None:
                values = {
                    name: analysis_text(value, translate) if name.endswith("_text") else value
                    for name, value in match.groupdict().items()
                }
                out.append(translate(msgid, **values))
                position = match.end()
                break
        else:
            separator = _SEPARATOR.search(text, position)
            end = separator.start() if separator else len(text)
            out.append(text[position:end])
            position = end
        separator = _SEPARATOR.match(text, position)
        if separator is not None:
            out.append(separator.group())
            position = separator.end()
    return "".join(out)
