"""The show's timeline: every unit's readings, downsampled and kept for days (docs/timeline.md)."""
