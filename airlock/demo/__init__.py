"""`airlock demo`: a bundled sample folder and a scripted "demo model"."""
