"""Company briefings: coding typed organisation names, building privacy-safe aggregates, PDFs, the portal."""
