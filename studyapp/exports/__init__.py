"""Exports of pseudonymised research data: CSV, SPSS, Parquet and a codebook."""
