"""Instruments: questionnaire definitions kept as versioned YAML and loaded into the database."""
