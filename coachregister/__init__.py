"""coachregister: the registration system that a coaching practice's privacy regulation
describes."""
