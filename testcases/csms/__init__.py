"""OCTT 1.6 conformance test cases."""
