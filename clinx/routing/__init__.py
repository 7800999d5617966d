"""Routing: the in-memory channel index built from abilities, and the pure channel selector."""
