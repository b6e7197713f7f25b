"""Airlock's screens: one a module, each with its `.tcss` next to it."""
