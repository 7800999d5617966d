"""Repositories: one module per table family, plain async functions over an AsyncEngine or connection.
Rows come back as plain dicts keyed by column name."""
