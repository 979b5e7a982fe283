"""Reservation profile test cases for a charge point under test."""
