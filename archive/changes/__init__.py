"""What counts as a change, and how one is told: comparison rules, diffs, listings, significance, run review."""
