"""The benchmarks: scripts run from the repo root as `python -m bench.NAME` (see bench/README.md)."""
