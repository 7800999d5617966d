"""Shared vocabulary: enums, frozen value types, the error tree and the clock. No I/O here."""
