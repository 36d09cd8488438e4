"""Text features with Hugging Face ``transformers``, loaded from a local directory only.

:func:`load_text_encoder` is the real loading path (``AutoTokenizer`` / ``AutoModel`` with
``local_files_only=True``): point it at a downloaded BERT and it is used as is. Without one,
:func:`train_text_encoder` pretrains a small BERT the way BERT itself was pretrained, by
masked-language modelling on the item texts alone (no label), and saves it with
``save_pretrained`` -- so the notebooks load it back through the very same
:func:`load_text_encoder` path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from minirec.features.selfsupervised import PretrainConfig, pretrain

SPECIAL_TOKENS = {
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}


@dataclass(frozen=True)
class MaskedLMConfig(PretrainConfig):
    """Masked-language-model pretraining: optimisation and BERT's masking rule.

    Each real token is chosen with probability ``mask_probability`` (at least one per text, as
    the item texts are short); a chosen token is replaced by ``[MASK]`` 80% of the time, by a
    random token 10% of the time and left as it is otherwise, and the model predicts it.
    """

    steps: int = 200  # 20 epochs of 600 texts
    batch_size: int = 64
    lr: float = 1e-3
    mask_probability: float = 0.15


TEXT_PRETRAIN = MaskedLMConfig()


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
    """Mean of the last hidden states over the real (non-padding) tokens: ``(len(texts), hidden)``.

    Mean pooling rather than the ``[CLS]`` state: masked-language modelling trains no objective
    on ``[CLS]`` (BERT's was next-sentence prediction), while every token's state is trained,
    and mean pooling is what sentence encoders settled on (Reimers & Gurevych, 2019).
    """
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


def tiny_bert_config(
    vocab_size: int, hidden: int = 64, layers: int = 2, heads: int = 2, max_positions: int = 64
):
    """A small ``BertConfig`` (about 0.1M parameters for the sample vocabulary)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * hidden,
        max_position_embeddings=max_positions,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )


def tiny_bert(vocab_size: int, hidden: int = 64, layers: int = 2, heads: int = 2, max_positions: int = 64):
    """A small ``BertModel`` with random weights (an untrained encoder)."""
    from transformers import BertModel

    return BertModel(tiny_bert_config(vocab_size, hidden, layers, heads, max_positions))


def mask_tokens(
    input_ids: torch.Tensor,
    special: torch.Tensor,
    generator: torch.Generator,
    vocab_size: int,
    mask_id: int,
    probability: float = 0.15,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking of a batch ``(B, T)``: ``(inputs, labels)``, labels ``-100`` where not chosen.

    ``special`` is ``True`` at ``[CLS]``, ``[SEP]`` and padding, which are never chosen. Every
    text with a real token gets at least one chosen token, so no batch is without a target.
    """
    shape = input_ids.shape
    chosen = (torch.rand(shape, generator=generator) < probability) & ~special
    pick = torch.rand(shape, generator=generator).masked_fill(special, -1.0).argmax(1)  # one real token
    needs_one = ~chosen.any(1) & ~special.all(1)
    chosen[needs_one, pick[needs_one]] = True
    labels = input_ids.masked_fill(~chosen, -100)
    action = torch.rand(shape, generator=generator)
    replaced = torch.randint(vocab_size, shape, generator=generator)
    inputs = torch.where(chosen & (action < 0.8), torch.full_like(input_ids, mask_id), input_ids)
    inputs = torch.where(chosen & (action >= 0.8) & (action < 0.9), replaced, inputs)
    return inputs, labels


def train_text_encoder(
    texts: Sequence[str],
    save_to: str | Path,
    hidden: int = 64,
    config: MaskedLMConfig = TEXT_PRETRAIN,
    device: torch.device | str = "cpu",
) -> list[float]:
    """Pretrain a tiny BERT on ``texts`` by masked-language modelling; ``save_pretrained`` it to ``save_to``.

    ``transformers.BertForMaskedLM`` computes the loss: the cross-entropy of the original token at
    the chosen positions. Only the encoder is saved (as a ``BertModel``, with the tokenizer), so
    :func:`load_text_encoder` reads it back exactly; the prediction head is dropped. Returns the
    mean loss per epoch.
    """
    from transformers import BertForMaskedLM, BertModel

    tokenizer = build_word_tokenizer(texts)
    mlm: Any = BertForMaskedLM(tiny_bert_config(len(tokenizer), hidden))
    mlm.to(device)
    encoded = tokenizer(list(texts), padding=True, return_tensors="pt", return_special_tokens_mask=True)
    ids, attention = encoded["input_ids"], encoded["attention_mask"]
    special = encoded["special_tokens_mask"].bool() | (attention == 0)

    def loss(rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        inputs, labels = mask_tokens(
            ids[rows],
            special[rows],
            generator,
            len(tokenizer),
            tokenizer.mask_token_id,
            config.mask_probability,
        )
        out = mlm(
            input_ids=inputs.to(device), attention_mask=attention[rows].to(device), labels=labels.to(device)
        )
        return out.loss

    losses = pretrain(mlm, loss, len(texts), config, desc="text encoder (masked LM)")
    # BertForMaskedLM's encoder has no pooler; a BertModel has one (BERT trained it on next-sentence
    # prediction, which we skip). Saving a full BertModel keeps the round trip through AutoModel exact.
    encoder = BertModel(mlm.config)
    missing, unexpected = encoder.load_state_dict(mlm.bert.state_dict(), strict=False)
    assert not unexpected and all(key.startswith("pooler.") for key in missing), (missing, unexpected)
    save_to = Path(save_to)
    save_to.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(save_to)
    encoder.save_pretrained(save_to)
    return losses
