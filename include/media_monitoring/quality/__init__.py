"""Validation of each run's articles with Great Expectations suites kept as files in ``suites/``."""
