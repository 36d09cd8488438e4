"""``python -m minirec.course.environment``: prove that the installed stack really works.

Imports torch, torchvision and transformers, runs a torchvision model forward on the CPU and
prints the versions and the device the notebooks will use. ``make`` runs it after installing,
so a broken wheel (e.g. a torchvision built against another torch) fails the install step.
"""

from __future__ import annotations

import platform


def main() -> None:
    import torch
    import torchvision
    import transformers

    from minirec.core.runtime import choose_device

    model = torchvision.models.resnet18(weights=None, num_classes=4).eval()
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 32, 32))
    assert logits.shape == (1, 4), logits.shape
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    kept = torchvision.ops.nms(boxes, torch.tensor([0.9, 0.8]), 0.5)  # a compiled torchvision op
    assert kept.tolist() == [0], kept
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"torchvision {torchvision.__version__}, transformers {transformers.__version__}; "
        f"notebooks will use device '{choose_device()}'"
    )


if __name__ == "__main__":
    main()
