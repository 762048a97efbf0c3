"""Session keywords (art. 3.1): a few words per session, never the coachee's name."""
