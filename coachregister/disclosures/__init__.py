"""Consent and disclosures to recipients (art. 1.10, 1.11, 8.4, 9.1)."""
