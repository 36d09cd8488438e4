"""Loading a checkpoint of the official Fashion Hash Net code (github.com/lzcn/Fashion-Hash-Net).

The official solver saves ``torch.save(net.state_dict(), "<name>_best.net")``: a plain state_dict
of its ``FashionNet``. :func:`load_official_checkpoint` reads one (or its ``save_solver`` file, whose
``"net"`` entry is that state_dict; a ``module.`` prefix from ``nn.DataParallel`` is removed),
checks every name and shape, infers the architecture and returns a minirec
:class:`~minirec.models.fhn.FashionHashNet` whose scores equal the official ones. The mapping, with
``c`` the official encoder index of a category (top 0, bottom 1, shoe 2; always 0 for a ``single``
model), ``U`` users, code length ``D``, feature width ``F`` and hidden width ``H``:

- ``user_embedding.encoder.weight`` ``(D, U)`` -> ``users.linear.weight`` (the same layout);
- ``user_embedding.scale`` ``(1,)`` -> ``users.code.beta`` (the official tanh scale is beta);
- ``encoder_v.c.encoder.1.weight`` ``(H, F)`` and ``.bias`` ``(H,)`` -> ``hashers.visual.<category>.net.0``;
- ``encoder_v.c.encoder.4.weight`` ``(D, H)`` -> ``hashers.visual.<category>.net.3.weight``;
- ``encoder_t.c.encoder.0.weight`` ``(H, F)`` and ``.bias`` ``(H,)`` -> ``hashers.text.<category>.net.0``;
- ``encoder_t.c.encoder.3.weight`` ``(D, H)`` -> ``hashers.text.<category>.net.3.weight``;
- ``encoder_v.c.scale``, ``encoder_t.c.scale`` ``(1,)`` -> ``hashers.<modality>.<category>.code.beta``;
- ``core.0.weight``, ``core.1.weight`` ``(1, D)`` -> ``matching.lambda_ui``, ``matching.lambda_ii`` ``(D,)``;
- ``features.*`` (the AlexNet backbone) is ignored: minirec scores precomputed features.

The official image module is ``Dropout -> Linear -> ReLU -> Dropout -> Linear`` (hence indices 1 and
4), the text module ``Linear -> ReLU -> Dropout -> Linear`` (0 and 3). The model is built by
:meth:`FHNConfig.official` with the widths found in the file, so it has the same input Dropout
(active in training mode only, like every Dropout): its eval-mode scores equal the official ones.

What is not in the file must be given: the item features (``features[modality][category]``, the
backbone's 4096-d output and the 2400-d sentence vectors for equal scores: the ``features.*``
weights are the fine-tuned backbone that computes the former), the slots (by default inferred from
the number of users, as the official code does) and the matching-block ``terms`` (the official
``zero_uterm`` / ``zero_iterm`` flags). Only ``hash_types: 3`` (a learned diagonal for both terms,
every official config) and ``share_user: false`` checkpoints are supported; others raise.

**sign(0).** The official binary code is ``torch.sign(tanh(scale h))``, which is 0 where ``h`` is
exactly 0; minirec's is ``+1`` there, because a code entry must be a bit (packed codes, Hamming
search, ``PackedFHN``). Binary scores are equal whenever no pre-activation is exactly 0, which
:func:`exact_zero_codes` checks; the loader warns when it finds any.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from minirec.data.errors import DataFormatError
from minirec.data.io import load_torch_file
from minirec.models.fhn import FashionHashNet, FHNConfig, official_slots

#: The official encoder index of each category (``polyvore/config.py``: ``CateIdx``).
OFFICIAL_CATEGORY_INDEX = {"top": 0, "bottom": 1, "shoe": 2}
#: Official module prefix, first and last Linear of each modality's encoder.
OFFICIAL_ENCODERS = {"visual": ("encoder_v", 1, 4), "text": ("encoder_t", 0, 3)}
USER_WEIGHT = "user_embedding.encoder.weight"
USER_SCALE = "user_embedding.scale"
LAMBDA_UI, LAMBDA_II = "core.0.weight", "core.1.weight"
IGNORED_PREFIX = "features."  # the image backbone, replaced by precomputed features
DESCRIPTION = "an official Fashion Hash Net checkpoint (a FashionNet state_dict)"

StateDict = dict[str, torch.Tensor]


def read_official_state(source: str | Path | Mapping[str, Any]) -> tuple[StateDict, str]:
    """The official state_dict in ``source`` (a file or a mapping), unwrapped, and a name for errors.

    Accepts the ``.net`` file (the state_dict itself) or the ``.solver`` file (``{"net": ...}``),
    with or without the ``module.`` prefix ``nn.DataParallel`` adds.
    """
    if isinstance(source, (str, Path)):
        origin = str(source)
        stored = load_torch_file(source, DESCRIPTION)
    else:
        origin, stored = "the given state_dict", source
    if isinstance(stored, Mapping) and isinstance(stored.get("net"), Mapping):
        stored = stored["net"]  # BasicSolver.save_solver: {"net": state_dict, "optim": ..., ...}
    if not isinstance(stored, Mapping) or not stored:
        raise DataFormatError(
            origin, f"expected {DESCRIPTION}: parameter name -> tensor, got {_kind(stored)}"
        )
    for key, value in stored.items():
        if not (isinstance(key, str) and isinstance(value, torch.Tensor)):
            raise DataFormatError(
                origin, f"expected {DESCRIPTION}: entry {key!r} is {_kind(value)}, not a tensor"
            )
    state = {key: value.detach().to("cpu", torch.float32) for key, value in stored.items()}
    if all(key.startswith("module.") for key in state):
        state = {key.removeprefix("module."): value for key, value in state.items()}
    return state, origin


def _kind(value: object) -> str:
    if isinstance(value, Mapping) and not value:
        return "an empty mapping"
    return f"a {type(value).__name__}"


def _tensor(state: StateDict, origin: str, key: str, shape: tuple[int | None, ...]) -> torch.Tensor:
    """``state[key]``, checked against ``shape`` (``None``: any size on that axis)."""
    expected = "(" + ", ".join("any" if n is None else str(n) for n in shape) + ")"
    if key not in state:
        raise DataFormatError(origin, f"missing key {key!r} (expected a tensor of shape {expected})")
    value = state[key]
    fits = value.dim() == len(shape) and all(
        n is None or n == m for n, m in zip(shape, value.shape, strict=True)
    )
    if not fits:
        raise DataFormatError(origin, f"key {key!r} has shape {tuple(value.shape)}, expected {expected}")
    return value


def _check_supported(state: StateDict, origin: str) -> None:
    if "user_embedding.encoder.0.weight" in state:
        raise DataFormatError(
            origin,
            "has a shared user encoder (share_user: true, key 'user_embedding.encoder.0.weight'); "
            f"only share_user: false ({USER_WEIGHT!r}) is supported",
        )
    if "core.weight" in state:
        raise DataFormatError(
            origin,
            "has one matching weight ('core.weight': hash_types 0, 1 or 2); only hash_types: 3, "
            f"a learned diagonal for both terms ({LAMBDA_UI!r}, {LAMBDA_II!r}), is supported",
        )
    known = re.compile(r"(user_embedding|core|encoder_v|encoder_t)\.")
    unknown = [key for key in state if not (key.startswith(IGNORED_PREFIX) or known.match(key))]
    if unknown:
        raise DataFormatError(
            origin,
            f"unexpected key {unknown[0]!r}: a FashionNet has user_embedding.*, features.*, "
            "encoder_v.*, encoder_t.* and core.* only",
        )


def _encoder_indices(state: StateDict, origin: str, prefix: str) -> list[int]:
    pattern = re.compile(rf"{prefix}\.(\d+)\.")
    indices = sorted({int(m.group(1)) for key in state if (m := pattern.match(key))})
    if indices not in ([0], [0, 1, 2]):
        raise DataFormatError(
            origin, f"{prefix} has encoders {indices}; expected [0] (single) or [0, 1, 2] (top, bottom, shoe)"
        )
    return indices


def official_architecture(state: StateDict, origin: str = "the given state_dict") -> dict[str, Any]:
    """What the state_dict fixes: ``num_users``, ``dim``, and per modality ``F``, ``H`` and encoders."""
    _check_supported(state, origin)
    dim, num_users = _tensor(state, origin, USER_WEIGHT, (None, None)).shape
    modalities: dict[str, tuple[int, int, list[int]]] = {}
    for modality, (prefix, first, _) in OFFICIAL_ENCODERS.items():
        if not any(key.startswith(prefix + ".") for key in state):
            continue
        indices = _encoder_indices(state, origin, prefix)
        hidden, width = _tensor(state, origin, f"{prefix}.0.encoder.{first}.weight", (None, None)).shape
        modalities[modality] = (width, hidden, indices)
    if not modalities:
        raise DataFormatError(origin, "has neither encoder_v.* (visual) nor encoder_t.* (text) weights")
    return {"num_users": num_users, "dim": dim, "modalities": modalities}


def _mapped_state(
    state: StateDict, origin: str, model: FashionHashNet, indices: dict[str, list[int]]
) -> StateDict:
    """minirec parameter name -> value, every official tensor checked against its expected shape."""
    config = model.config
    dim, users = config.dim, config.num_users
    mapped = {
        "users.linear.weight": _tensor(state, origin, USER_WEIGHT, (dim, users)),
        "users.code.beta": _tensor(state, origin, USER_SCALE, (1,)).reshape(()),
        "matching.lambda_ui": _tensor(state, origin, LAMBDA_UI, (1, dim)).reshape(dim),
        "matching.lambda_ii": _tensor(state, origin, LAMBDA_II, (1, dim)).reshape(dim),
    }
    for modality in model.modalities:
        prefix, first, last = OFFICIAL_ENCODERS[modality]
        width, hidden = config.feature_dims[modality], config.hidden_dim(modality)
        for index in indices[modality]:
            encoder = f"{prefix}.{index}"
            _tensor(state, origin, f"{encoder}.encoder.{first}.weight", (hidden, width))
            _tensor(state, origin, f"{encoder}.encoder.{first}.bias", (hidden,))
            _tensor(state, origin, f"{encoder}.encoder.{last}.weight", (dim, hidden))
            _tensor(state, origin, f"{encoder}.scale", (1,))
        for category in model.categories:
            index = OFFICIAL_CATEGORY_INDEX[category] if len(indices[modality]) > 1 else 0
            encoder, ours = f"{prefix}.{index}", f"hashers.{modality}.{category}"
            mapped[f"{ours}.net.0.weight"] = state[f"{encoder}.encoder.{first}.weight"]
            mapped[f"{ours}.net.0.bias"] = state[f"{encoder}.encoder.{first}.bias"]
            mapped[f"{ours}.net.3.weight"] = state[f"{encoder}.encoder.{last}.weight"]
            mapped[f"{ours}.code.beta"] = state[f"{encoder}.scale"].reshape(())
    return mapped


def load_official_checkpoint(
    source: str | Path | Mapping[str, Any],
    features: Mapping[str, Mapping[str, np.ndarray | torch.Tensor]],
    *,
    slots: tuple[str, ...] | None = None,
    terms: str = "both",
    device: torch.device | str = "cpu",
) -> FashionHashNet:
    """A minirec :class:`FashionHashNet` (eval mode) with the weights of an official checkpoint.

    ``source`` is the official ``.net`` / ``.solver`` file or the state_dict itself. ``features``
    holds every item's input feature per modality and category, for every modality the checkpoint
    has. ``slots`` defaults to the official inference from the number of users; ``terms`` to both
    matching-block terms. The architecture (users, ``D``, feature and hidden widths) comes from the
    checkpoint, on top of :meth:`FHNConfig.official`. Bad checkpoints raise
    :class:`~minirec.data.errors.DataFormatError` naming the key, the shape found and the shape
    expected. See the module docstring for the mapping and the ``sign(0)`` convention.
    """
    state, origin = read_official_state(source)
    found = official_architecture(state, origin)
    modalities: dict[str, tuple[int, int, list[int]]] = found["modalities"]
    missing = sorted(set(modalities) - set(features))
    if missing:
        raise ValueError(
            f"features lacks the modalities {missing} of the checkpoint (it has {sorted(modalities)}); "
            "the official score averages every modality"
        )
    slots = official_slots(found["num_users"]) if slots is None else tuple(slots)
    unknown = sorted(set(slots) - set(OFFICIAL_CATEGORY_INDEX))
    if unknown:
        raise ValueError(
            f"slots {slots} has categories {unknown}; the official model knows top, bottom and shoe"
        )
    _check_features(features, {m: width for m, (width, _, _) in modalities.items()}, slots)
    config = FHNConfig.official(
        found["num_users"],
        {m: width for m, (width, _, _) in modalities.items()},
        dim=found["dim"],
        slots=slots,
        hidden_dims={m: hidden for m, (_, hidden, _) in modalities.items()},
        terms=terms,
    )
    model = FashionHashNet(config, {m: features[m] for m in modalities})
    mapped = _mapped_state(state, origin, model, {m: ix for m, (_, _, ix) in modalities.items()})
    model.load_state_dict(model.state_dict() | mapped)
    model = model.to(device).eval()
    zeros = exact_zero_codes(model)
    if any(zeros.values()):
        warnings.warn(
            f"{origin}: pre-activations exactly 0 in {zeros}; the official sign gives 0 there and "
            "minirec +1, so binary scores with those users or items differ from the official ones",
            stacklevel=2,
        )
    return model


def _check_features(
    features: Mapping[str, Mapping[str, np.ndarray | torch.Tensor]],
    widths: dict[str, int],
    slots: tuple[str, ...],
) -> None:
    for modality, width in widths.items():
        for category in dict.fromkeys(slots):
            if category not in features[modality]:
                raise ValueError(
                    f"features[{modality!r}] lacks the category {category!r} of the slots {slots}"
                )
            shape = tuple(np.shape(features[modality][category]))
            if len(shape) != 2 or shape[1] != width:
                raise ValueError(
                    f"features[{modality!r}][{category!r}] has shape {shape}; the checkpoint's {modality} "
                    f"encoders expect (items, {width})"
                )


@torch.no_grad()
def exact_zero_codes(model: FashionHashNet) -> dict[str, int]:
    """How many code entries have a pre-activation of exactly 0, per ``users`` and ``modality/category``.

    There, the official ``torch.sign`` gives 0 and minirec's binary code +1 (see the module docstring).
    """
    was_training = model.training
    model.eval()
    counts = {"users": int((model.users.linear.weight == 0).sum())}  # user u's h is column u
    for modality in model.modalities:
        for category in model.categories:
            h = model.hasher(modality, category).pre_activation(model.item_features(modality, category))
            counts[f"{modality}/{category}"] = int((h == 0).sum())
    model.train(was_training)
    return counts
