"""Evaluation: the store's counts of each objective judged by the SLO math, at one time."""
