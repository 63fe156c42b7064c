"""Example files for the demo: what a user can try the Import page with (make_examples)."""
