"""Wrong answers a struggling student might hand in for notebook 01; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py).
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "max pooling over the real tokens": """
def cls_features(texts):
    batch = text_tokenizer(list(texts), padding=True, return_tensors="pt").to(device)
    with torch.no_grad():
        states = text_model(**batch).last_hidden_state
    padding = batch["attention_mask"].unsqueeze(-1) == 0
    return states.masked_fill(padding, float("-inf")).max(dim=1).values.cpu().numpy()
""",
        "the last position": """
def cls_features(texts):
    batch = text_tokenizer(list(texts), padding=True, return_tensors="pt").to(device)
    with torch.no_grad():
        return text_model(**batch).last_hidden_state[:, -1].cpu().numpy()
""",
        "position 1 (the first word)": """
def cls_features(texts):
    batch = text_tokenizer(list(texts), padding=True, return_tensors="pt").to(device)
    with torch.no_grad():
        return text_model(**batch).last_hidden_state[:, 1].cpu().numpy()
""",
        "the mean of the states": """
def cls_features(texts):
    return encode_texts(text_tokenizer, text_model, list(texts), device=device).numpy()
""",
        "the pooler output": """
def cls_features(texts):
    batch = text_tokenizer(list(texts), padding=True, return_tensors="pt").to(device)
    with torch.no_grad():
        return text_model(**batch).pooler_output.cpu().numpy()
""",
    },
    "exercise_2_tests": {
        "colour labels instead of pattern": """
pattern_visual = probe_accuracy(visual, labels["colour"]).accuracy
pattern_text = probe_accuracy(text, labels["colour"]).accuracy
better_for_pattern = "visual" if pattern_visual > pattern_text else "text"
""",
        "names the lower accuracy": """
pattern_visual = probe_accuracy(visual, labels["pattern"]).accuracy
pattern_text = probe_accuracy(text, labels["pattern"]).accuracy
better_for_pattern = "visual" if pattern_visual < pattern_text else "text"
""",
        "the untrained encoders": """
pattern_visual = probe_accuracy(visual_untrained, labels["pattern"]).accuracy
pattern_text = probe_accuracy(text_untrained, labels["pattern"]).accuracy
better_for_pattern = "visual" if pattern_visual > pattern_text else "text"
""",
        "a probe result instead of its accuracy, and a made-up name": """
pattern_visual = probe_accuracy(visual, labels["pattern"])
pattern_text = probe_accuracy(text, labels["pattern"])
better_for_pattern = "image"
""",
    },
    "exercise_3_tests": {
        "1-based ids without the -1 shift (one column too many)": """
shop = load_shopping()
def shopping_multi_hot():
    lists = [shop.item_attributes[i] for i in range(1, shop.num_items + 1)]
    return multi_hot(lists, len(shop.attribute_names) + 1)
""",
        "items as columns (transposed)": """
shop = load_shopping()
def shopping_multi_hot():
    lists = [[a - 1 for a in shop.item_attributes[i]] for i in range(1, shop.num_items + 1)]
    return multi_hot(lists, len(shop.attribute_names)).T
""",
        "rows in the dictionary's order": """
shop = load_shopping()
def shopping_multi_hot():
    lists = [[a - 1 for a in attributes] for attributes in shop.item_attributes.values()]
    return multi_hot(lists, len(shop.attribute_names))
""",
        "row 0 for a padding item 0 (rows off by one)": """
shop = load_shopping()
def shopping_multi_hot():
    lists = [[a - 1 for a in shop.item_attributes.get(i, [])] for i in range(shop.num_items)]
    return multi_hot(lists, len(shop.attribute_names))
""",
    },
}
