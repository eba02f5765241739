"""A unit's live state: the tracker that merges readings, the derived status and its
hysteresis."""
