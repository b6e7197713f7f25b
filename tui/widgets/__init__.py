"""Airlock's widgets: one a module, each rendering a slice of the engine's events."""
