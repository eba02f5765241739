"""Micboard's pages: one module per area, each view thin (look up, call a service, render)."""
