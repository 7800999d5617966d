"""Authentication and authorisation: passwords, generated keys, signed sessions, role checks."""
