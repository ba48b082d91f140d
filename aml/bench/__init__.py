"""Benchmarks (`make bench`): each module here exposes run() -> dict of figures and prints them."""
