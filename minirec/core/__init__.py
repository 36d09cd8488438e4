"""The foundation every layer may use: seeds, device choice, progress bars and the training loop."""
