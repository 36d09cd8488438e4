"""Image features: torchvision backbones with local weights, and a small CNN trained offline.

Fashion Hash Net takes the penultimate ("fc7") activations of an ImageNet CNN; the multimodal
sequential recommender takes VGG16's fc7. :func:`torchvision_backbone` builds those networks
with torchvision's own constructors and loads weights from a *local* file when one is given,
never from the network. Without weights, :class:`SmallCNN` is trained on the sample images
(predicting their attributes) and its penultimate layer serves as the image feature.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torchvision
from torch import nn

from minirec.features.supervised import TrainConfig, fit_attribute_heads

#: Penultimate-layer width of each supported torchvision constructor.
BACKBONE_DIMS = {"alexnet": 4096, "vgg16": 4096, "resnet18": 512, "resnet50": 2048}
IMAGE_TRAIN = TrainConfig()  # 25 epochs, batch 64, Adam 3e-3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def torchvision_backbone(name: str, weights_path: str | Path | None = None) -> tuple[nn.Module, int]:
    """A torchvision CNN cut at its penultimate layer, and the feature width.

    ``weights_path`` is a ``state_dict`` saved with ``torch.save`` (e.g. torchvision's
    ``vgg16-397923af.pth``); it is loaded strictly, so a mismatched file fails loudly.
    Without it the network keeps its random initialisation: fine for shapes, useless as features.
    """
    if name not in BACKBONE_DIMS:
        raise ValueError(f"backbone should be one of {sorted(BACKBONE_DIMS)}, got {name!r}")
    model = getattr(torchvision.models, name)(weights=None)
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such weights file (expected a torch.save'd state_dict)")
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    if name.startswith("resnet"):
        model.fc = nn.Identity()
    else:  # alexnet, vgg: drop the last classifier layer, keep fc6 -> fc7 (+ ReLU, dropout)
        model.classifier = nn.Sequential(*list(model.classifier.children())[:-1])
    return model.eval(), BACKBONE_DIMS[name]


def imagenet_preprocess(images: torch.Tensor, size: int = 224) -> torch.Tensor:
    """``(N, 3, H, W)`` floats in [0, 1] -> resized and normalised as ImageNet models expect."""
    images = nn.functional.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=images.device).view(1, 3, 1, 1)
    return (images - mean) / std


class SmallCNN(nn.Module):
    """Three conv blocks (conv, batch norm, ReLU) and global pooling -> a ``dim``-wide feature.

    One linear head per attribute sits on top; the feature is what later notebooks use.
    """

    def __init__(self, heads: Mapping[str, int], dim: int = 64) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]

        self.features = nn.Sequential(
            *block(3, 16),
            nn.MaxPool2d(2),
            *block(16, 32),
            nn.MaxPool2d(2),
            *block(32, dim),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.heads = nn.ModuleDict({name: nn.Linear(dim, n) for name, n in heads.items()})
        self.dim = dim

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.features(images)  # (batch, dim)
        return {name: head(features) for name, head in self.heads.items()}


def train_attribute_cnn(
    images: torch.Tensor,
    labels: Mapping[str, torch.Tensor],
    dim: int = 64,
    config: TrainConfig = IMAGE_TRAIN,
    device: torch.device | str = "cpu",
) -> tuple[SmallCNN, list[float]]:
    """Train :class:`SmallCNN` to predict each attribute in ``labels`` from ``images`` (N, 3, H, W).

    Returns the model (in eval mode) and the mean training loss of each epoch.
    """
    heads = {name: int(y.max()) + 1 for name, y in labels.items()}
    model = SmallCNN(heads, dim).to(device)
    losses = fit_attribute_heads(
        lambda rows: model(images[rows].to(device)), model, labels, config, device, desc="image CNN"
    )
    return model, losses


@torch.no_grad()
def extract_features(
    encoder: nn.Module, images: torch.Tensor, batch_size: int = 256, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Run ``encoder`` (e.g. ``SmallCNN.features`` or a torchvision backbone) over ``images`` in batches."""
    encoder = encoder.to(device).eval()
    parts = [encoder(images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(parts)
