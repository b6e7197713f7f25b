"""Airlock's Textual front end: screens and widgets that render engine events."""
