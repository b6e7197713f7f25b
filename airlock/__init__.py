"""Airlock: an AI coworker in a sandbox, behind a keyboard review gate."""

__version__ = "0.1.0"
