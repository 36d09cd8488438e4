"""Wrong answers a struggling student might hand in for notebook 06; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py).
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "mean instead of sum": """
def sum_fusion(stacked: torch.Tensor) -> torch.Tensor:
    return stacked.mean(dim=-1)
""",
        "sums over the key axis": """
def sum_fusion(stacked: torch.Tensor) -> torch.Tensor:
    return stacked.sum(dim=-2)
""",
        "sums over the heads": """
def sum_fusion(stacked: torch.Tensor) -> torch.Tensor:
    return stacked.sum(dim=1)
""",
        "the item stream only": """
def sum_fusion(stacked: torch.Tensor) -> torch.Tensor:
    return stacked[..., 0]
""",
    },
    "exercise_2_tests": {
        "no gain (return 0.0)": """
def rare_gain() -> float:
    return 0.0
""",
        "the gain over all users": """
def rare_gain() -> float:
    gains = [hit_rate_at_k(expert, K) - hit_rate_at_k(plain, K)
             for expert, plain in zip(rankings["SASRec + content expert"], rankings["SASRec"], strict=True)]
    return float(np.mean(gains))
""",
        "the first seed only": """
def rare_gain() -> float:
    rare = training_counts(split)[[split.test[int(u)] for u in users]] <= 5
    expert, plain = rankings["SASRec + content expert"][0], rankings["SASRec"][0]
    return float(hit_rate_at_k(expert[rare], K) - hit_rate_at_k(plain[rare], K))
""",
        "< 5 instead of <= 5": """
def rare_gain() -> float:
    rare = training_counts(split)[[split.test[int(u)] for u in users]] < 5
    gains = [hit_rate_at_k(expert[rare], K) - hit_rate_at_k(plain[rare], K)
             for expert, plain in zip(rankings["SASRec + content expert"], rankings["SASRec"], strict=True)]
    return float(np.mean(gains))
""",
        "against SASRec + features": """
def rare_gain() -> float:
    rare = training_counts(split)[[split.test[int(u)] for u in users]] <= 5
    expert, features_only = rankings["SASRec + content expert"], rankings["SASRec + features"]
    gains = [hit_rate_at_k(e[rare], K) - hit_rate_at_k(f[rare], K)
             for e, f in zip(expert, features_only, strict=True)]
    return float(np.mean(gains))
""",
    },
    "exercise_3_tests": {
        "uniform weights": """
def mean_gate_weights() -> np.ndarray:
    return np.full(4, 0.25)
""",
        "the first block instead of the last": """
def mean_gate_weights() -> np.ndarray:
    model = models["fusion (gate)"].eval()
    windows = torch.as_tensor(np.stack([left_pad(split.history(int(u), "test"), MAX_LENGTH)
                                        for u in users]), device=device)
    with torch.no_grad():
        x = model.embed(windows)
        block = model.blocks[0]
        gate = torch.softmax(block.attention.gate(block.norms["id"](x)), dim=-1)[:, -1]
    return gate.mean(dim=0).cpu().numpy()
""",
        "the first position instead of the last": """
def mean_gate_weights() -> np.ndarray:
    model = models["fusion (gate)"].eval()
    windows = torch.as_tensor(np.stack([left_pad(split.history(int(u), "test"), MAX_LENGTH)
                                        for u in users]), device=device)
    with torch.no_grad():
        x, side = model.embed(windows), model.side_streams(windows)
        x, _, _ = model.blocks[0](x, side, attention_mask(windows), (windows != 0).unsqueeze(-1))
        block = model.blocks[-1]
        gate = torch.softmax(block.attention.gate(block.norms["id"](x)), dim=-1)[:, 0]
    return gate.mean(dim=0).cpu().numpy()
""",
        "gates without softmax": """
def mean_gate_weights() -> np.ndarray:
    model = models["fusion (gate)"].eval()
    windows = torch.as_tensor(np.stack([left_pad(split.history(int(u), "test"), MAX_LENGTH)
                                        for u in users]), device=device)
    with torch.no_grad():
        x, side = model.embed(windows), model.side_streams(windows)
        x, _, _ = model.blocks[0](x, side, attention_mask(windows), (windows != 0).unsqueeze(-1))
        block = model.blocks[-1]
        gate = block.attention.gate(block.norms["id"](x))[:, -1]
    return gate.mean(dim=0).cpu().numpy()
""",
        "forgets the layer norm": """
def mean_gate_weights() -> np.ndarray:
    model = models["fusion (gate)"].eval()
    windows = torch.as_tensor(np.stack([left_pad(split.history(int(u), "test"), MAX_LENGTH)
                                        for u in users]), device=device)
    with torch.no_grad():
        x, side = model.embed(windows), model.side_streams(windows)
        x, _, _ = model.blocks[0](x, side, attention_mask(windows), (windows != 0).unsqueeze(-1))
        gate = torch.softmax(model.blocks[-1].attention.gate(x), dim=-1)[:, -1]
    return gate.mean(dim=0).cpu().numpy()
""",
    },
}
