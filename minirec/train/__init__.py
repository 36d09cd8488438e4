"""Losses, training loops and evaluation."""
