"""Core of the framework: data model, database access and shared services."""
