"""Performance runs (SPEC 7): `python -m bench` times every page on the demo and large data."""
