"""Airlock's benchmarks, run by `python -m bench`: each one side by side with a standard tool.

Every benchmark measures Airlock and a reference tool on the same data in the same run,
and reports medians, min–max and the ratio to the reference (see `bench/README.md`).
"""
