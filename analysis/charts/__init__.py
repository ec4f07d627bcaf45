"""SVG charts for the analysis pages and the PDF reports: profile plots, category plots (the probabilities of
categorical indicators), transition diagrams, fit plots.

Every chart is returned as a self-contained ``<svg>`` string. Colours, strokes and fonts are presentation
attributes only (no ``style`` attributes, no ``<style>`` elements, no scripts): WeasyPrint does not apply
external CSS classes inside inline SVG, and the web app's Content-Security-Policy forbids inline styles.
The root carries ``role="img"``, an ``aria-label`` and a ``<title>``; data marks carry ``<title>`` tooltips
and ``data-*`` attributes describing what they show. All text is escaped with :func:`html.escape`.

Pure Python on pandas frames: no Flask, no database.
"""

from analysis.charts.categories import category_plot
from analysis.charts.fit import fit_plot
from analysis.charts.profiles import profile_plot
from analysis.charts.svg import PALETTE
from analysis.charts.transitions import transition_diagram

__all__ = ["PALETTE", "category_plot", "fit_plot", "profile_plot", "transition_diagram"]
