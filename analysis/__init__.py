"""Statistics for the Bridge the Gap study on pandas DataFrames: scoring, latent profiles, transitions.

No Flask, no database.
"""
