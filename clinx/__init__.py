"""Clinx: an LLM gateway and AI asset manager, drop-in compatible with New API."""

__version__ = "0.1.0"
