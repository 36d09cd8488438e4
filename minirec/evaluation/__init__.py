"""Metrics, baselines, retrieval lists, the evaluation protocols of both recommenders, and plots."""
