"""The performance harness: `make bench` runs every `bench_*.py` module here."""
