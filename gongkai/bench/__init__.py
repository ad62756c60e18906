"""Benchmarks behind `make bench` (`python -m gongkai.bench`).

Each bench is a function that takes the shared run context and returns a dict of figures;
`gongkai.bench.__main__` runs them in order and merges their dicts into `build/bench.json`.

- `data`: the deterministic benchmark dataset (a Data Package with Chinese text) and an invalid
  copy whose expected errors are known.
- `load`: validate + load with gongkai against the obvious pipeline (`frictionless validate`
  then `sqlite-utils insert --csv`) and the C floor (`sqlite3 .import`), with peak memory,
  and checks that gongkai reports the same errors as frictionless on the invalid copy.
- `serve`: request throughput of the served site (written separately).

Benchmarks are not part of the test suite's timing; `tests/test_bench.py` only smoke-runs a tiny one.
"""
