"""Robustness: the negative cases the OCTT implies (harness/cases.py, pseudo-profile Robustness)."""
