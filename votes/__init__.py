"""Votes on motions, per party with per-member exceptions, and the item's decision."""
