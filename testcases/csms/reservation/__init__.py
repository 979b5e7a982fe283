"""Reservation profile test cases for a central system under test."""
