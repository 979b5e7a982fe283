"""OCTT 1.6 conformance test cases: Smart Charging, central system under test."""
