"""Reliability tests: bad input, extreme scales and the regressions of issue 26, one file per area."""
