"""Cache and coordination: one small interface, an in-process backend and a Redis backend.
This package is the only one that imports redis."""
