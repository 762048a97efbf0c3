"""Coachees: the identity vault, the public intake and contact moments (art. 3.1, 12.1)."""
