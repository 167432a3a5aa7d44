"""Benchmarks and dataset generators (not part of the installed package)."""
