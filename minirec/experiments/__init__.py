"""Experiments: frozen configs, their command lines, multi-seed runs and saved run records."""
