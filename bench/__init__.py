"""The benchmark kit: `python bench/run.py` (see bench/README.md)."""
