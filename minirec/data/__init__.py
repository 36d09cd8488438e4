"""Sample generators, their hidden truth, and loaders for the real data formats (the bottom layer)."""
