"""SASRec and the fusion model: causality, padding, losses, evaluation protocols, metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from minirec.data.sequences import LeaveOneOut
from minirec.evaluation.metrics import hit_rate_at_k, mrr, ndcg_at_k, sample_negatives
from minirec.evaluation.seqrec import evaluate_seqrec
from minirec.models.fusion import FusionConfig, MultimodalSeqRec
from minirec.models.hashed_seqrec import HashedSeqRec
from minirec.models.sasrec import SASRec, SASRecConfig, attention_mask
from minirec.models.sequential import SequentialRecommender, build_seqrec
from minirec.train.seqrec import SeqTrainConfig, next_item_loss, random_negatives, train_seqrec

NUM_ITEMS = 30


def features():
    rng = np.random.default_rng(0)
    category = (rng.random((NUM_ITEMS + 1, 5)) < 0.3).astype(np.float32)
    image = rng.normal(size=(NUM_ITEMS + 1, 7)).astype(np.float32)
    category[0] = image[0] = 0
    return {"category": category, "image": image}


def models():
    torch.manual_seed(0)
    yield SASRec(SASRecConfig(num_items=NUM_ITEMS, max_length=8, dim=16, heads=2))
    yield SASRec(SASRecConfig(num_items=NUM_ITEMS, max_length=8, dim=16), features())
    for fusion in ("sum", "concat", "gate"):
        config = FusionConfig(num_items=NUM_ITEMS, max_length=8, dim=16, fusion=fusion)
        yield MultimodalSeqRec(config, features())


@pytest.mark.parametrize("model", list(models()), ids=["sasrec", "sasrec+features", "sum", "concat", "gate"])
def test_causality_later_items_do_not_change_earlier_outputs(model):
    model.eval()
    sequence = torch.tensor([[0, 0, 3, 7, 1, 9, 4, 2]])
    changed = sequence.clone()
    changed[0, 5:] = torch.tensor([11, 12, 13])
    with torch.no_grad():
        a, b = model(sequence), model(changed)
    assert torch.allclose(a[0, :5], b[0, :5], atol=1e-6)
    assert not torch.allclose(a[0, 5:], b[0, 5:])


@pytest.mark.parametrize("model", list(models()), ids=["sasrec", "sasrec+features", "sum", "concat", "gate"])
def test_left_padding_does_not_change_outputs(model):
    model.eval()
    short = torch.tensor([[5, 6, 7]])
    padded = torch.tensor([[0, 0, 0, 0, 0, 5, 6, 7]])
    with torch.no_grad():
        assert torch.allclose(model(short)[0], model(padded)[0, -3:], atol=1e-5)
        other_padding = model(torch.tensor([[0, 0, 5, 6, 7]]))[0, -3:]
    assert torch.allclose(model(short)[0], other_padding, atol=1e-5)


def test_attention_mask_is_causal_and_ignores_padding():
    allowed = attention_mask(torch.tensor([[0, 4, 5]]))[0]
    assert allowed.tolist() == [[False, False, False], [False, True, False], [False, True, True]]


def test_fusion_rejects_bad_settings():
    with pytest.raises(ValueError, match="fusion should be one of"):
        FusionConfig(num_items=3, fusion="max")
    with pytest.raises(ValueError, match="at least one modality"):
        MultimodalSeqRec(FusionConfig(num_items=3), {})
    model = MultimodalSeqRec(FusionConfig(num_items=NUM_ITEMS, max_length=8, dim=16), features())
    assert model.aux_kinds == {"category": "bce", "image": "mse"}


def test_models_say_what_they_are():
    """One set of blocks, feature tables stored once, one return type, one protocol for all."""
    fusion = MultimodalSeqRec(FusionConfig(num_items=NUM_ITEMS, max_length=8, dim=16), features())
    assert {type(b).__name__ for b in fusion.blocks} == {"FusionBlock"}
    buffers = [name for name, _ in fusion.named_buffers()]
    assert sorted(buffers) == ["feature_category", "feature_image"], buffers
    sequences = torch.tensor([[0, 1, 2, 3]])
    fusion.eval()
    assert isinstance(fusion(sequences), torch.Tensor)
    maps = fusion.attention_maps(sequences)
    assert len(maps) == 2 and set(maps[0]) == {"fused", "id", "category", "image"}
    sasrec = SASRec(SASRecConfig(num_items=NUM_ITEMS, max_length=8, dim=16))
    assert [m.shape for m in sasrec.attention_maps(sequences)] == [(1, 1, 4, 4)] * 2
    for model in (fusion, sasrec, HashedSeqRec(sasrec, 8)):
        assert isinstance(model, SequentialRecommender)
    assert not isinstance(torch.nn.Linear(2, 2), SequentialRecommender)


def test_losses_and_negatives():
    torch.manual_seed(0)
    inputs = torch.tensor([[0, 1, 2, 3], [0, 0, 4, 5]])
    targets = torch.tensor([[0, 2, 3, 6], [0, 0, 5, 7]])
    negatives = random_negatives(inputs, targets, 8)
    for row in range(2):
        assert not set(negatives[row].tolist()) & set(inputs[row].tolist() + targets[row].tolist())
    model = SASRec(SASRecConfig(num_items=8, max_length=4, dim=8)).eval()
    hidden = model(inputs)
    scores = model.score_all(hidden)  # (2, 4, 9)
    bce = ce = 0.0
    positions = [(b, t) for b in range(2) for t in range(4) if targets[b, t] != 0]
    for b, t in positions:  # the losses written out position by position
        positive, negative = scores[b, t, targets[b, t]], scores[b, t, negatives[b, t]]
        bce -= (F.logsigmoid(positive) + F.logsigmoid(-negative)).item()
        ce -= torch.log_softmax(scores[b, t, 1:], dim=0)[targets[b, t] - 1].item()  # padding excluded
    assert next_item_loss(model, hidden, targets, negatives, "bce").item() == pytest.approx(
        bce / len(positions)
    )
    assert next_item_loss(model, hidden, targets, None, "ce").item() == pytest.approx(ce / len(positions))
    with pytest.raises(ValueError, match="loss should be one of"):
        SeqTrainConfig(loss="hinge")


def test_ranking_metrics_hand_computed():
    ranks = np.array([1, 3, 12, 2])
    assert hit_rate_at_k(ranks, 10) == 0.75
    assert ndcg_at_k(ranks, 10) == pytest.approx((1 + 1 / np.log2(4) + 0 + 1 / np.log2(3)) / 4)
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 1 / 12 + 1 / 2) / 4)


def test_sampled_negatives_never_include_the_history():
    rng = np.random.default_rng(0)
    history = set(range(1, 91))
    negatives = sample_negatives(100, history | {95}, 9, rng)
    assert len(set(negatives.tolist())) == 9 and not set(negatives.tolist()) & (history | {95})
    assert set(negatives.tolist()) <= set(range(91, 101))
    with pytest.raises(ValueError, match="only 9 items are left"):
        sample_negatives(100, history | {95}, 10, rng)


def test_evaluation_ranks_match_a_hand_built_scorer():
    sequences = {1: [1, 2, 3, 4], 2: [5, 6, 7, 8, 9]}
    split = LeaveOneOut.split(sequences, num_items=12)

    class Fixed(SASRec):
        """Scores item j by j: the rank of a target is known in advance."""

        def score_all(self, hidden):
            return torch.arange(13, dtype=torch.float32).expand(hidden.shape[0], 13)

    model = Fixed(SASRecConfig(num_items=12, max_length=6, dim=8))
    ranks = evaluate_seqrec(model, split, "test", num_negatives=3, seed=5)
    # user 1: target 4, history {1,2,3} masked: items 5..12 score higher -> rank 9
    # user 2: target 9, history {5..8} masked: items 10..12 higher -> rank 4
    assert ranks.full.tolist() == [9, 4]
    # sampled: the same negatives drawn by hand, each scoring its own id
    rng = np.random.default_rng(5)
    expected = []
    for history, target in (([1, 2, 3], 4), ([5, 6, 7, 8], 9)):
        negatives = sample_negatives(12, set(history) | {target}, 3, rng)
        expected.append(1 + int((negatives >= target).sum()))
    assert ranks.sampled.tolist() == expected


def test_sampled_softmax_ranks_each_target_against_the_shared_draw_written_out():
    torch.manual_seed(0)
    inputs = torch.tensor([[0, 1, 2, 3], [0, 0, 4, 5]])
    targets = torch.tensor([[0, 2, 3, 6], [0, 0, 5, 7]])
    drawn = torch.tensor([6, 1, 8, 3])  # 6 and 3 are targets of some positions: masked there only
    model = SASRec(SASRecConfig(num_items=8, max_length=4, dim=8)).eval()
    hidden = model(inputs)
    scores = model.score_all(hidden)
    expected = []
    for b, t in [(b, t) for b in range(2) for t in range(4) if targets[b, t] != 0]:
        target = int(targets[b, t])
        others = [int(i) for i in drawn if int(i) != target]
        logits = scores[b, t, [target, *others]]
        expected.append(-torch.log_softmax(logits, dim=0)[0].item())
    loss = next_item_loss(model, hidden, targets, drawn, "sampled").item()
    assert loss == pytest.approx(float(np.mean(expected)), rel=1e-5)
    with pytest.raises(ValueError, match="needs negatives"):
        next_item_loss(model, hidden, targets, None, "sampled")
    with pytest.raises(ValueError, match="sampled_negatives"):
        SeqTrainConfig(loss="sampled", sampled_negatives=0)


def test_post_norm_block_normalises_after_each_residual():
    torch.manual_seed(0)
    model = SASRec(SASRecConfig(num_items=8, max_length=4, dim=8, norm="post", dropout=0.0)).eval()
    block, x = model.blocks[0], torch.randn(1, 4, 8)
    allowed = attention_mask(torch.tensor([[1, 2, 3, 4]]))
    attended, _ = block.attention(x, allowed)
    by_hand = F.layer_norm(x + attended, (8,), block.attention_norm.weight, block.attention_norm.bias)
    by_hand = F.layer_norm(by_hand + block.ffn(by_hand), (8,), block.ffn_norm.weight, block.ffn_norm.bias)
    out, _ = block(x, allowed, torch.ones(1, 4, 1))
    assert torch.allclose(out, by_hand, atol=1e-6)
    with pytest.raises(ValueError, match="norm should be one of"):
        SASRecConfig(num_items=8, norm="middle")


def test_xavier_init_gives_item_rows_the_glorot_scale_and_a_zero_padding_row():
    torch.manual_seed(0)
    items = 4000
    scaled = SASRec(SASRecConfig(num_items=items, dim=50))
    xavier = SASRec(SASRecConfig(num_items=items, dim=50, init="xavier"))
    rows = xavier.item_embedding.weight[1:]
    assert rows.std().item() == pytest.approx((2 / (items + 1 + 50)) ** 0.5, rel=0.05)
    assert scaled.item_embedding.weight[1:].std().item() == pytest.approx(50**-0.5, rel=0.05)
    assert not xavier.item_embedding.weight[0].any()
    assert xavier.blocks[0].attention.query.weight.std().item() == pytest.approx(0.1, rel=0.1)


def test_training_lowers_the_loss_for_each_kind():
    sequences = {u: [(u + t) % 20 + 1 for t in range(8)] for u in range(1, 25)}
    split = LeaveOneOut.split(sequences, num_items=20)
    for kind, loss in (("sasrec", "ce"), ("fusion", "ce"), ("sasrec", "sampled")):
        model = build_seqrec(kind, 20, {"category": np.eye(21, 4, dtype=np.float32)}, max_length=8, dim=16)
        config = SeqTrainConfig(
            epochs=6, batch_size=8, lr=5e-3, aux_weight=0.1, loss=loss, sampled_negatives=8
        )
        history = train_seqrec(model, split.train, config, show_progress=False)
        assert history["next item"][-1] < 0.8 * history["next item"][0], (kind, loss)
        if kind == "fusion":
            assert "category" in history


def content_expert_model(alpha: float = 0.25) -> SASRec:
    torch.manual_seed(0)
    return SASRec(SASRecConfig(num_items=NUM_ITEMS, max_length=8, dim=16, content_expert=alpha), features())


def test_content_vectors_are_the_feature_part_of_the_item_vectors():
    model = content_expert_model()
    table = features()
    projections = model.feature_projections
    by_hand = sum(torch.as_tensor(table[m]) @ projections[m].weight.T + projections[m].bias for m in table)
    by_hand[0] = 0
    assert torch.allclose(model.content_vectors(), by_hand, atol=1e-6)
    ids_and_content = model.item_embedding.weight + model.content_vectors()
    assert torch.allclose(model.item_vectors(), ids_and_content, atol=1e-6)
    plain = SASRec(SASRecConfig(num_items=NUM_ITEMS, max_length=8, dim=16))
    assert not plain.content_vectors().any() and list(plain.expert_logits(torch.ones(2, 16))) == ["item"]


def test_content_expert_scores_are_the_log_of_the_mixture_of_two_softmaxes():
    alpha = 0.25
    model = content_expert_model(alpha).eval()
    hidden = torch.randn(3, 16)
    item = torch.softmax(hidden @ model.item_vectors()[1:].T, -1)
    content = torch.softmax(hidden @ model.content_vectors()[1:].T, -1)
    scores = model.score_all(hidden)
    assert torch.isinf(scores[:, 0]).all() and (scores[:, 0] < 0).all()  # padding is never predicted
    assert torch.allclose(scores[:, 1:].exp(), (1 - alpha) * item + alpha * content, atol=1e-6)
    assert torch.allclose(scores[:, 1:].exp().sum(-1), torch.ones(3), atol=1e-5)
    items = torch.tensor([[1, 5], [2, 30], [7, 7]])
    per_position = hidden.unsqueeze(1).expand(3, 2, 16)
    assert torch.allclose(model.score_items(per_position, items), scores.gather(1, items))


def test_content_expert_is_trained_on_its_own_cross_entropy():
    model = content_expert_model()
    hidden, targets = torch.randn(2, 4, 16), torch.tensor([[0, 3, 4, 5], [1, 2, 0, 9]])
    valid = targets != 0
    by_hand = 0
    for vectors in (model.item_vectors(), model.content_vectors()):
        logits = hidden[valid] @ vectors.T
        logits[:, 0] = float("-inf")
        by_hand = by_hand + F.cross_entropy(logits, targets[valid])
    assert torch.allclose(next_item_loss(model, hidden, targets, None, "ce"), by_hand)


def test_content_expert_refuses_what_it_cannot_be():
    with pytest.raises(ValueError, match="must be in \\[0, 1\\), got 1.0"):
        SASRecConfig(num_items=NUM_ITEMS, content_expert=1.0)
    with pytest.raises(ValueError, match="needs item features"):
        SASRec(SASRecConfig(num_items=NUM_ITEMS, dim=16, content_expert=0.5))
    with pytest.raises(ValueError, match="content_expert=0"):
        HashedSeqRec(content_expert_model(), bits=8)
    with pytest.raises(ValueError, match="loss='ce'"):
        bce = SeqTrainConfig(epochs=1, loss="bce")
        train_seqrec(content_expert_model(), {1: [1, 2, 3]}, bce, show_progress=False)


def test_item_transition_heuristic_counts_pairs_and_breaks_ties_by_popularity():
    from minirec.evaluation.baselines import item_transition_scores

    score = item_transition_scores({1: [1, 2, 3], 2: [1, 2, 4], 3: [2, 3]}, num_items=4)
    scores = score([[1], [3, 2], [4], []])
    popularity = np.array([0, 2, 3, 2, 1]) / 4  # counts / (max + 1): always below one transition
    assert np.allclose(scores[0], popularity + [0, 0, 2, 0, 0])  # 1 -> 2 twice
    assert np.allclose(scores[1], popularity + [0, 0, 0, 2, 1])  # after the last item, 2: 3 twice, 4 once
    assert np.allclose(scores[2], popularity) and np.allclose(scores[3], popularity)  # 4 leads nowhere
