"""Persistence: the only package that imports SQLAlchemy. Engine from SQL_DSN, New API's tables,
repositories with the atomic operations billing needs, and the in-place schema upgrade."""
