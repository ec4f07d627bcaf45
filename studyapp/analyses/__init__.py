"""Analyses of a cohort's waves: loading scores from the database, running and storing profile analyses."""
