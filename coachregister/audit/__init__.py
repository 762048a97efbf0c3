"""The audit trail (art. 5, 6): an append-only, hash-chained record of who did and saw what."""
