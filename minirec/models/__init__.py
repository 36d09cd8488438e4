"""Recommender models built in the notebooks."""
