"""Data values that flow between steps (datasets) and their helpers."""
