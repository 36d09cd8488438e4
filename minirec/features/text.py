"""Text features with Hugging Face ``transformers``, loaded from a local directory only.

:func:`load_text_encoder` is the real loading path (``AutoTokenizer`` / ``AutoModel`` with
``local_files_only=True``): point it at a downloaded BERT and it is used as is. Without one,
:func:`train_text_encoder` builds a word-level tokenizer on the sample texts and a tiny BERT,
trains it to predict the items' attributes, and saves both with ``save_pretrained`` -- so the
notebooks load it back through the very same :func:`load_text_encoder` path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import nn

from minirec.features.supervised import TrainConfig, fit_attribute_heads

TEXT_TRAIN = TrainConfig(epochs=20)
SPECIAL_TOKENS = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}


def load_text_encoder(name_or_path: str | Path, device: torch.device | str = "cpu"):
    """``(tokenizer, model)`` from a local directory (or the local Hugging Face cache), offline.

    Raises ``FileNotFoundError`` with a plain message when nothing is found locally.
    """
    from transformers import AutoModel, AutoTokenizer

    source = Path(name_or_path).expanduser()
    target = str(source) if source.exists() else str(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(target, local_files_only=True)
        model = AutoModel.from_pretrained(target, local_files_only=True)
    except OSError as err:
        raise FileNotFoundError(
            f"{name_or_path}: no local tokenizer/model found (looked in that directory and in the local "
            f"Hugging Face cache; nothing is downloaded). Original error: {err}"
        ) from None
    return tokenizer, model.to(device).eval()


@torch.no_grad()
def encode_texts(
    tokenizer,
    model,
    texts: Sequence[str],
    batch_size: int = 128,
    device: torch.device | str = "cpu",
    max_length: int = 64,
) -> torch.Tensor:
    """Mean of the last hidden states over the real (non-padding) tokens: ``(len(texts), hidden)``."""
    model = model.to(device).eval()
    parts = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(
            list(texts[start : start + batch_size]),
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        ).to(device)
        hidden = model(**batch).last_hidden_state  # (batch, tokens, hidden)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        parts.append(((hidden * mask).sum(1) / mask.sum(1)).cpu())
    return torch.cat(parts)


def build_word_tokenizer(texts: Sequence[str]):
    """A word-level ``PreTrainedTokenizerFast`` whose vocabulary is every word of ``texts``."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel(unk_token=SPECIAL_TOKENS["unk_token"]))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=list(SPECIAL_TOKENS.values())))
    cls_id, sep_id = core.token_to_id("[CLS]"), core.token_to_id("[SEP]")
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return PreTrainedTokenizerFast(tokenizer_object=core, **SPECIAL_TOKENS)


def tiny_bert(vocab_size: int, hidden: int = 64, layers: int = 2, heads: int = 2, max_positions: int = 64):
    """A small ``BertModel`` (about 0.1M parameters for the sample vocabulary)."""
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * hidden,
        max_position_embeddings=max_positions,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )
    return BertModel(config)


def train_text_encoder(
    texts: Sequence[str],
    labels: Mapping[str, torch.Tensor],
    save_to: str | Path,
    hidden: int = 64,
    config: TrainConfig = TEXT_TRAIN,
    device: torch.device | str = "cpu",
) -> list[float]:
    """Train a tiny BERT to predict each attribute from the text; ``save_pretrained`` it to ``save_to``.

    Returns the mean training loss per epoch. Load the result with :func:`load_text_encoder`.
    """
    tokenizer = build_word_tokenizer(texts)
    bert = tiny_bert(len(tokenizer), hidden).to(device)
    heads = nn.ModuleDict({n: nn.Linear(hidden, int(y.max()) + 1) for n, y in labels.items()}).to(device)
    encoded = tokenizer(list(texts), padding=True, return_tensors="pt")

    def predict(rows: torch.Tensor) -> dict[str, torch.Tensor]:
        ids, mask = encoded["input_ids"][rows].to(device), encoded["attention_mask"][rows].to(device)
        states = bert(input_ids=ids, attention_mask=mask).last_hidden_state  # (batch, tokens, hidden)
        weights = mask.unsqueeze(-1).float()
        pooled = (states * weights).sum(1) / weights.sum(1)
        return {name: head(pooled) for name, head in heads.items()}

    losses = fit_attribute_heads(
        predict, nn.ModuleDict({"bert": bert, "heads": heads}), labels, config, device, desc="text encoder"
    )
    save_to = Path(save_to)
    save_to.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(save_to)
    bert.save_pretrained(save_to)
    return losses
