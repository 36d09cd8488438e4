"""Image features: torchvision backbones with local weights, and a small CNN pretrained offline.

Fashion Hash Net takes the penultimate ("fc7") activations of an ImageNet CNN; the multimodal
sequential recommender takes VGG16's fc7. :func:`torchvision_backbone` builds those networks
with torchvision's own constructors and loads weights from a *local* file when one is given,
never from the network. Without weights, :class:`SmallCNN` is pretrained on the item pictures
alone, self-supervised (:func:`train_contrastive_cnn`, SimCLR's contrastive objective), and its
pooled output serves as the image feature. No label is used: the hidden attributes of the sample
are only probe targets afterwards (:mod:`minirec.features.probe`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

from minirec.data.errors import DataFormatError
from minirec.data.io import load_torch_file
from minirec.features.selfsupervised import PretrainConfig, pretrain

#: Penultimate-layer width of each supported torchvision constructor.
BACKBONE_DIMS = {"alexnet": 4096, "vgg16": 4096, "resnet18": 512, "resnet50": 2048}
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
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such weights file (expected a torch.save'd state_dict)")
        state = load_torch_file(path, f"a torch.save'd state_dict of {name}")
        try:
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as err:
            message = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise DataFormatError(path, f"does not fit torchvision's {name} ({message})") from None
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
    """Three blocks of 3x3 convolution, group norm and ReLU, 2x2 max pooling after the first two,
    then global average pooling: ``(N, 3, H, W)`` pictures -> ``(N, dim)`` features.

    Group norm normalises each picture on its own, so the network computes the same thing in
    training and in eval mode and one picture's feature never depends on its batch (batch norm's
    running statistics made an earlier version's eval-mode results swing with the example order).
    """

    def __init__(self, dim: int = 64, widths: tuple[int, int] = (8, 16), groups: int = 4) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.GroupNorm(groups, c_out), nn.ReLU()]

        self.layers = nn.Sequential(
            *block(3, widths[0]),
            nn.MaxPool2d(2),
            *block(widths[0], widths[1]),
            nn.MaxPool2d(2),
            *block(widths[1], dim),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.dim = dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images)  # (N, dim)


@dataclass(frozen=True)
class ContrastiveConfig(PretrainConfig):
    """SimCLR-style pretraining: optimisation, NT-Xent temperature, projection width, augmentations.

    The views differ in framing only: a random crop (side ``min_crop``..1 of the picture, aspect
    ratio ``exp(±aspect_jitter)``), a horizontal flip, a shift of up to ``max_shift`` half-widths
    and Gaussian pixel noise of std ``noise``. There is deliberately **no colour jitter** (SimCLR's
    other strong augmentation): colour is a real product property in both samples (a garment's
    colour, a package's palette), and an encoder trained to ignore it would throw it away.

    A low temperature weights the hardest negatives most (Wang & Liu, CVPR 2021): here, pictures
    of the same colour, which the encoder can only tell apart by their shape and pattern.
    """

    temperature: float = 0.05
    projection_dim: int = 32
    min_crop: float = 0.6
    aspect_jitter: float = 0.15
    max_shift: float = 0.1
    noise: float = 0.03


IMAGE_PRETRAIN = ContrastiveConfig()  # 75 steps (15 epochs of 600 pictures), batch 128, Adam 3e-3


def augment(images: torch.Tensor, generator: torch.Generator, config: ContrastiveConfig) -> torch.Tensor:
    """One random view of each picture ``(N, 3, H, W)`` in [0, 1]: crop, flip, shift, noise; colour untouched.

    All views of a batch are drawn at once as affine sampling grids (``affine_grid`` /
    ``grid_sample``); pixels from outside the picture repeat its border (the background).
    """
    n = len(images)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    side = uniform(config.min_crop, 1.0)
    aspect = torch.exp(uniform(-config.aspect_jitter, config.aspect_jitter))
    scale_x, scale_y = side * aspect.sqrt(), side / aspect.sqrt()
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)  # output grid -> input grid, in [-1, 1] coordinates
    theta[:, 0, 0] = scale_x * flip
    theta[:, 1, 1] = scale_y
    theta[:, 0, 2] = (1 - scale_x + config.max_shift).clamp(min=0) * uniform(-1, 1)
    theta[:, 1, 2] = (1 - scale_y + config.max_shift).clamp(min=0) * uniform(-1, 1)
    theta = theta.to(images.device)
    grid = nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    views = nn.functional.grid_sample(images, grid, padding_mode="border", align_corners=False)
    noise = torch.randn(views.shape, generator=generator).to(images.device)
    return (views + config.noise * noise).clamp(0, 1)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's NT-Xent loss for ``B`` positive pairs ``(z1[k], z2[k])`` of projections ``(B, P)``.

    Each of the ``2B`` views must pick out its partner among the other ``2B - 1`` by cosine
    similarity over ``temperature``: a softmax cross-entropy, averaged over all ``2B`` views.
    """
    z = nn.functional.normalize(torch.cat([z1, z2]), dim=1)  # (2B, P), unit length
    similarity = z @ z.T / temperature  # (2B, 2B)
    own = torch.eye(len(z), dtype=torch.bool, device=z.device)
    similarity = similarity.masked_fill(own, float("-inf"))
    b = len(z1)
    partner = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(z.device)
    return nn.functional.cross_entropy(similarity, partner)


def train_contrastive_cnn(
    images: torch.Tensor,
    dim: int = 64,
    config: ContrastiveConfig = IMAGE_PRETRAIN,
    device: torch.device | str = "cpu",
) -> tuple[SmallCNN, list[float]]:
    """Pretrain :class:`SmallCNN` on ``images`` ``(N, 3, H, W)`` alone, with NT-Xent over two views.

    A projection head ``dim -> dim -> projection_dim`` (SimCLR's ``g``) sits on the encoder
    during training and is then dropped: the feature is the encoder's pooled output. Returns the
    encoder (in eval mode) and the mean loss of each epoch.
    """
    encoder = SmallCNN(dim).to(device)
    head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, config.projection_dim)).to(device)

    def loss(rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        batch = images[rows].to(device)
        z1, z2 = (head(encoder(augment(batch, generator, config))) for _ in range(2))
        return nt_xent(z1, z2, config.temperature)

    model = nn.ModuleDict({"encoder": encoder, "projection": head})
    losses = pretrain(model, loss, len(images), config, desc="image CNN (contrastive)")
    return encoder, losses


@torch.no_grad()
def extract_features(
    encoder: nn.Module, images: torch.Tensor, batch_size: int = 256, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Run ``encoder`` (e.g. a :class:`SmallCNN` or a torchvision backbone) over ``images`` in batches."""
    encoder = encoder.to(device).eval()
    parts = [encoder(images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(parts)
