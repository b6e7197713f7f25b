"""The review gate: baseline, change detection, hunks, approved sync, journal and undo."""
