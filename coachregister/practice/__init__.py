"""The practice: its settings, which drive both behaviour and documents (art. 2, 13)."""
