"""Configuration: environment settings (read once in create_app) and the runtime options registry."""
