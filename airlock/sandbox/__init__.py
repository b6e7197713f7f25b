"""Sandboxes: one protocol, two backends (Lima VM, bubblewrap namespace)."""
