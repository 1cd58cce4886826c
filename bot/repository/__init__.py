"""Queries, no business rules. Every function is scoped by workspace_id."""
