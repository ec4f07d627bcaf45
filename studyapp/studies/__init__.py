"""Studies, cohorts and waves: what researchers define before fieldwork starts."""
