"""Security extension: the central system under test (OCPP 1.6 security white paper, edition 2);
the harness is its charge point."""
