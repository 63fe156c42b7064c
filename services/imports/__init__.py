"""Bringing data in from Excel and CSV files (SPEC 9, issue 12)."""
