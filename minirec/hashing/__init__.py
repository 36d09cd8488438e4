"""Binary codes: relaxing sign for training, and packed bits for Hamming-speed scoring."""
