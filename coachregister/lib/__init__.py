"""Pure helpers without Django models: crypto, addresses, deadlines, name matching, PDF."""
