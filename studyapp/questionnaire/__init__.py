"""The participant questionnaire: pages from the instrument definition, saving, submitting, feedback."""
