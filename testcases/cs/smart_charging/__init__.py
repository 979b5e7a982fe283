"""OCTT 1.6 conformance test cases: Smart Charging, charge point under test."""
