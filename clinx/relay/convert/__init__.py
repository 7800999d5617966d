"""Pure converters between LLM API dialects (see README.md: no I/O here)."""
