"""Fashion Hash Net (Lu et al., CVPR 2019): binary codes for users and items, and the matching block.

Shapes: ``B`` batch, ``N`` outfit slots, ``D`` code length, ``F`` feature width.

- A **hashing module** per (modality, category): ``Linear(F, H) -> ReLU -> Dropout ->
  Linear(H, D, bias=False)`` then the code layer (``tanh(beta h)`` while training, ``sign`` at
  test time). One module per category makes the codes *type-dependent*. The hidden width ``H`` is
  ``F/2`` unless ``FHNConfig.hidden_dims`` sets it (the official text module uses 1024), and
  ``FHNConfig.input_dropout`` can add a Dropout before the first layer (the official image module).
- **User codes**: one-hot user -> ``Linear(U, D, bias=False)`` -> code layer.
- The **matching block** scores user ``u`` and outfit ``O = (x_1..x_N)``::

      score = s * [ 1/(N D) sum_n u^T L_ui x_n  +  1/(|P| D) sum_{(n,m) in P} x_n^T L_ii x_m ]

  with learned diagonal ``L_ui``, ``L_ii`` (initialised to 1), ``P`` all slot pairs ``n < m``
  (without the top-top pair when an outfit has two tops) and ``s = 10``. With one term only, it
  is doubled, keeping scores in ``[-2s, 2s]`` (the official code's convention). With visual and
  text codes the score is ``0.5 * (visual + text)``, with one shared user code.

Binary codes are ``sign(h)`` with ``sign(0) = +1`` (:func:`minirec.hashing.relax.binarize`), so
every entry is a bit and the packed, weighted-Hamming scoring of ``PackedFHN`` applies. The official
code uses ``torch.sign``, whose ``sign(0) = 0``; the two agree unless a pre-activation is exactly 0
(``minirec.models.official_fhn.exact_zero_codes`` counts them for a loaded checkpoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from minirec.hashing.relax import CodeLayer, set_beta

TERMS = ("both", "preference", "compatibility")

#: Feature widths of the official code: AlexNet's 4096-d fc7 (``polyvore/model/backbones.py``) and
#: the 2400-d skip-thought sentence vectors (``polyvore/model/fashionnet.py``).
OFFICIAL_FEATURE_DIMS: dict[str, int] = {"visual": 4096, "text": 2400}
OFFICIAL_TEXT_HIDDEN = 1024  # ``TxtEncoder``: Linear(2400, 1024), whatever the code length
OFFICIAL_DIM = 128  # ``dim`` of every official training config
#: Official user counts of the variable-length data sets (``polyvore/param.py``), whose outfits are
#: read as four slots, the second top duplicating the first when an outfit has one.
OFFICIAL_VARIABLE_LENGTH_USERS = (519, 32)


def official_slots(num_users: int) -> tuple[str, ...]:
    """The outfit layout the official code infers from the number of users (``NetParam.setup``)."""
    if num_users in OFFICIAL_VARIABLE_LENGTH_USERS:
        return ("top", "top", "bottom", "shoe")
    return ("top", "bottom", "shoe")


@dataclass(frozen=True)
class FHNConfig:
    """Architecture of a Fashion Hash Net.

    ``hidden_dims`` (modality -> hidden width ``H``) and ``input_dropout`` (modality -> Dropout rate
    before the first layer) default to ``F/2`` and no input Dropout for every modality missing from
    them. :meth:`official` sets what the official configurations set.
    """

    num_users: int
    feature_dims: dict[str, int]  # modality -> feature width F, e.g. {"visual": 64, "text": 64}
    slots: tuple[str, ...] = ("top", "bottom", "shoe")
    dim: int = 64
    terms: str = "both"
    relaxation: str = "tanh"
    dropout: float = 0.5
    score_scale: float = 10.0
    init_std: float = 0.01
    hidden_dims: dict[str, int] | None = None
    input_dropout: dict[str, float] | None = None

    def __post_init__(self) -> None:
        if self.terms not in TERMS:
            raise ValueError(f"terms should be one of {TERMS}, got {self.terms!r}")
        if not self.feature_dims:
            raise ValueError("feature_dims needs at least one modality, e.g. {'visual': 64}")
        if self.dim < 1:
            raise ValueError(f"dim (the code length D) must be >= 1, got {self.dim}")
        for name, per_modality in (("hidden_dims", self.hidden_dims), ("input_dropout", self.input_dropout)):
            unknown = set(per_modality or {}) - set(self.feature_dims)
            if unknown:
                raise ValueError(
                    f"{name} names modalities {sorted(unknown)} that feature_dims lacks "
                    f"(it has {sorted(self.feature_dims)})"
                )
        for modality, width in (self.hidden_dims or {}).items():
            if width < 1:
                raise ValueError(f"hidden_dims[{modality!r}] must be >= 1, got {width}")
        for modality, rate in (self.input_dropout or {}).items():
            if not 0 <= rate < 1:
                raise ValueError(f"input_dropout[{modality!r}] must be in [0, 1), got {rate}")

    def hidden_dim(self, modality: str) -> int:
        """Hidden width ``H`` of the hashing modules of ``modality``: ``hidden_dims`` or ``F/2``."""
        default = max(1, self.feature_dims[modality] // 2)
        return (self.hidden_dims or {}).get(modality, default)

    def input_dropout_rate(self, modality: str) -> float:
        """Dropout rate applied to the features of ``modality`` before its first layer (0: none)."""
        return (self.input_dropout or {}).get(modality, 0.0)

    @classmethod
    def official(
        cls,
        num_users: int,
        feature_dims: Mapping[str, int] | None = None,
        *,
        dim: int = OFFICIAL_DIM,
        slots: tuple[str, ...] | None = None,
        hidden_dims: Mapping[str, int] | None = None,
        terms: str = "both",
    ) -> FHNConfig:
        """The architecture of the official ``FashionNet`` (``cfg/train/FHN_VSE_T3_630.yaml``, ``_519``).

        It sets: ``D = 128``; features 4096-d visual (AlexNet) and 2400-d text (skip-thought) unless
        ``feature_dims`` names others; hidden widths ``F/2`` for the image module and 1024 for the text
        module; Dropout 0.5 after the hidden layer of both and before the first layer of the image
        module; both matching-block terms with learned diagonals (``hash_types: 3``); score scale 10;
        ``tanh(beta h)`` codes; ``N(0, 0.01^2)`` initialisation; and the slots the official code
        infers from ``num_users`` (four, two tops, for the 519- and 32-user data sets). The official
        optimiser (SGD, momentum 0.9, per-group learning rates, 100 epochs, batch 64, gamma 1) is a
        training setting, not part of this config.
        """
        widths = dict(OFFICIAL_FEATURE_DIMS if feature_dims is None else feature_dims)
        unknown = set(widths) - set(OFFICIAL_FEATURE_DIMS)
        if unknown:
            raise ValueError(
                f"the official model has the modalities {sorted(OFFICIAL_FEATURE_DIMS)}, "
                f"got {sorted(unknown)}"
            )
        hidden = {"visual": widths.get("visual", 0) // 2, "text": OFFICIAL_TEXT_HIDDEN}
        hidden = {m: h for m, h in hidden.items() if m in widths} | dict(hidden_dims or {})
        return cls(
            num_users=num_users,
            feature_dims=widths,
            slots=official_slots(num_users) if slots is None else tuple(slots),
            dim=dim,
            terms=terms,
            relaxation="tanh",
            dropout=0.5,
            score_scale=10.0,
            init_std=0.01,
            hidden_dims=hidden,
            input_dropout={"visual": 0.5} if "visual" in widths else {},
        )


class HashingModule(nn.Module):
    """Features ``(..., F)`` -> codes ``(..., D)``: two linear layers, then the code layer.

    ``hidden`` is the hidden width (default ``F/2``); ``input_dropout > 0`` adds a Dropout before
    the first layer, kept outside ``net`` so that the parameter names stay ``net.0`` and ``net.3``.
    """

    input_dropout: nn.Dropout | None

    def __init__(
        self,
        in_features: int,
        dim: int,
        dropout: float = 0.5,
        relaxation: str = "tanh",
        init_std: float = 0.01,
        hidden: int | None = None,
        input_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = max(1, in_features // 2) if hidden is None else hidden
        self.input_dropout = nn.Dropout(input_dropout) if input_dropout > 0 else None
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, dim, bias=False)
        )
        self.code = CodeLayer(relaxation)
        first, last = self.net[0], self.net[3]
        assert isinstance(first, nn.Linear) and isinstance(last, nn.Linear)
        nn.init.normal_(first.weight, std=init_std)
        nn.init.zeros_(first.bias)
        nn.init.normal_(last.weight, std=init_std)

    def pre_activation(self, features: torch.Tensor) -> torch.Tensor:
        """``h`` before the code layer, ``(..., D)``."""
        if self.input_dropout is not None:
            features = self.input_dropout(features)
        return self.net(features)

    def forward(self, features: torch.Tensor, binary: bool = False) -> torch.Tensor:
        return self.code(self.pre_activation(features), binary=binary)


class UserCodes(nn.Module):
    """User ids -> one-hot -> ``Linear(U, D, bias=False)`` -> codes ``(B, D)``."""

    def __init__(self, num_users: int, dim: int, relaxation: str = "tanh", init_std: float = 0.01) -> None:
        super().__init__()
        self.num_users = num_users
        self.linear = nn.Linear(num_users, dim, bias=False)
        self.code = CodeLayer(relaxation)
        nn.init.normal_(self.linear.weight, std=init_std)

    def forward(self, users: torch.Tensor, binary: bool = False) -> torch.Tensor:
        one_hot = nn.functional.one_hot(users, self.num_users).to(self.linear.weight.dtype)
        return self.code(self.linear(one_hot), binary=binary)


def slot_pairs(slots: tuple[str, ...]) -> list[tuple[int, int]]:
    """All pairs ``n < m`` of slots, without the top-top pair of two-top outfits."""
    pairs = [(n, m) for n in range(len(slots)) for m in range(n + 1, len(slots))]
    return [(n, m) for n, m in pairs if not (slots[n] == slots[m] == "top")]


class MatchingBlock(nn.Module):
    """``s * [preference + compatibility]`` with learned diagonal weights (see the module docstring)."""

    pair_n: torch.Tensor  # (|P|,) first slot of each pair
    pair_m: torch.Tensor  # (|P|,) second slot of each pair

    def __init__(self, dim: int, slots: tuple[str, ...], terms: str = "both", scale: float = 10.0) -> None:
        super().__init__()
        self.lambda_ui = nn.Parameter(torch.ones(dim))
        self.lambda_ii = nn.Parameter(torch.ones(dim))
        pairs = slot_pairs(slots)
        self.register_buffer("pair_n", torch.tensor([n for n, _ in pairs]))
        self.register_buffer("pair_m", torch.tensor([m for _, m in pairs]))
        self.terms, self.scale = terms, scale

    def preference(self, user: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """``1/(N D) sum_n u^T L_ui x_n``; user ``(B, D)``, items ``(B, N, D)`` -> ``(B,)``."""
        return (user.unsqueeze(1) * self.lambda_ui * items).mean(dim=(1, 2))

    def compatibility(self, items: torch.Tensor) -> torch.Tensor:
        """``1/(|P| D) sum_{(n,m)} x_n^T L_ii x_m``; items ``(B, N, D)`` -> ``(B,)``."""
        return (items[:, self.pair_n] * self.lambda_ii * items[:, self.pair_m]).mean(dim=(1, 2))

    def forward(self, user: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        if self.terms == "preference":
            return 2 * self.scale * self.preference(user, items)
        if self.terms == "compatibility":
            return 2 * self.scale * self.compatibility(items)
        return self.scale * (self.preference(user, items) + self.compatibility(items))


class OutfitScores(NamedTuple):
    """What :class:`FashionHashNet` returns: the scores and the item codes they came from."""

    scores: torch.Tensor  # (B,)
    codes: dict[str, torch.Tensor]  # modality -> (B, N, D), for the visual-semantic loss


class FashionHashNet(nn.Module):
    """Hashing modules per (modality, category), user codes, and one shared matching block.

    ``features[modality][category]`` holds every item's input feature; they are stored as
    buffers, so the model scores outfits directly from item ids ``(B, N)``.
    """

    def __init__(
        self, config: FHNConfig, features: Mapping[str, Mapping[str, np.ndarray | torch.Tensor]]
    ) -> None:
        super().__init__()
        self.config = config
        self.modalities = tuple(config.feature_dims)
        self.categories = tuple(dict.fromkeys(config.slots))
        for modality in self.modalities:
            for category in self.categories:
                table = torch.as_tensor(np.asarray(features[modality][category]), dtype=torch.float32)
                if table.shape[1] != config.feature_dims[modality]:
                    raise ValueError(
                        f"features[{modality!r}][{category!r}] has width {table.shape[1]}, "
                        f"config says {config.feature_dims[modality]}"
                    )
                self.register_buffer(f"features_{modality}_{category}", table)
        self.hashers = nn.ModuleDict(
            {
                modality: nn.ModuleDict(
                    {
                        category: HashingModule(
                            config.feature_dims[modality],
                            config.dim,
                            config.dropout,
                            config.relaxation,
                            config.init_std,
                            hidden=config.hidden_dim(modality),
                            input_dropout=config.input_dropout_rate(modality),
                        )
                        for category in self.categories
                    }
                )
                for modality in self.modalities
            }
        )
        self.users = UserCodes(config.num_users, config.dim, config.relaxation, config.init_std)
        self.matching = MatchingBlock(config.dim, config.slots, config.terms, config.score_scale)

    def set_beta(self, beta: float) -> None:
        """Set beta of every code layer (the relaxation ``tanh(beta h)``)."""
        set_beta(self, beta)

    @property
    def beta(self) -> float:
        return float(self.users.code.beta)

    def hasher(self, modality: str, category: str) -> HashingModule:
        """The hashing module of one modality and category."""
        module = self.hashers[modality][category]  # type: ignore[index]
        assert isinstance(module, HashingModule)
        return module

    def item_features(self, modality: str, category: str) -> torch.Tensor:
        return getattr(self, f"features_{modality}_{category}")

    def item_codes(self, modality: str, outfits: torch.Tensor, binary: bool = False) -> torch.Tensor:
        """Codes ``(B, N, D)`` of the items of ``outfits`` ``(B, N)`` in one modality."""
        columns = [
            self.hasher(modality, category)(
                self.item_features(modality, category)[outfits[:, n]], binary=binary
            )
            for n, category in enumerate(self.config.slots)
        ]
        return torch.stack(columns, dim=1)

    def forward(self, users: torch.Tensor, outfits: torch.Tensor, binary: bool = False) -> OutfitScores:
        """Scores ``(B,)`` of ``(users, outfits)``, and the item codes per modality (for the VSE loss)."""
        user = self.users(users, binary=binary)
        codes = {m: self.item_codes(m, outfits, binary=binary) for m in self.modalities}
        scores = torch.stack([self.matching(user, codes[m]) for m in self.modalities]).mean(dim=0)
        return OutfitScores(scores, codes)

    @torch.no_grad()
    def code_tables(self, binary: bool = True) -> tuple[torch.Tensor, dict[str, dict[str, torch.Tensor]]]:
        """All user codes ``(U, D)`` and all item codes per modality and category (eval mode)."""
        was_training = self.training
        self.eval()
        device = self.users.linear.weight.device
        users = self.users(torch.arange(self.config.num_users, device=device), binary=binary)
        items = {
            m: {c: self.hasher(m, c)(self.item_features(m, c), binary=binary) for c in self.categories}
            for m in self.modalities
        }
        self.train(was_training)
        return users, items

    @torch.no_grad()
    def score_tuples(
        self, tuples: np.ndarray | torch.Tensor, binary: bool = True, batch_size: int = 4096
    ) -> np.ndarray:
        """Scores of rows ``user, item per slot`` from precomputed code tables (eval mode)."""
        user_table, item_tables = self.code_tables(binary)
        tuples = torch.as_tensor(np.asarray(tuples), dtype=torch.long, device=user_table.device)
        out = []
        for start in range(0, len(tuples), batch_size):
            rows = tuples[start : start + batch_size]
            user = user_table[rows[:, 0]]
            per_modality = []
            for m in self.modalities:
                slots = enumerate(self.config.slots)
                items = torch.stack([item_tables[m][c][rows[:, 1 + n]] for n, c in slots], dim=1)
                per_modality.append(self.matching(user, items))
            out.append(torch.stack(per_modality).mean(dim=0).cpu())
        return torch.cat(out).numpy() if out else np.zeros(0)
