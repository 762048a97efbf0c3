"""Retention and destruction (art. 10)."""
