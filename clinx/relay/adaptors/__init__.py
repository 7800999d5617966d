"""Provider adaptors: one module per provider family behind one small protocol, looked up by channel type."""
