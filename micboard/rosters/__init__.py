"""Rosters: who wears which mic this week, from Planning Center Services or a CSV file."""
