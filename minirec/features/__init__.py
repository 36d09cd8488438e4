"""Item features: images (torchvision CNNs), texts (transformers encoders), categories (multi-hot)."""
