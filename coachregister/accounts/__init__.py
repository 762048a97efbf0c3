"""Staff accounts: roles (art. 1.4–1.7), sign-in policy (12.2), confidentiality (4.1f, 5.2, 5.3)."""
