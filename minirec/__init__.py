"""minirec: multimodal recommenders from scratch, with binary codes."""

__version__ = "0.1.0"
