"""Show prep: shared mics passed from hand to hand, and the mic check (docs/rosters.md)."""
