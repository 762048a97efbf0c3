"""The coachee's rights (art. 7, 8, 9.2, 4.1d): requests answered within four weeks."""
