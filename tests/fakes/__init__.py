"""Fakes for what cannot run in tests (Lima), reproducing the real CLI's protocol."""
