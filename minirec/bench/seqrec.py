"""``python -m minirec.bench.seqrec --data DIR``: SASRec and the fusion model on a real sequence dataset.

``DIR`` holds one ``<name>.txt`` (``uid i1 i2 ...`` per line, time order) and, for the fusion
model, ``<name>_item2attributes.json`` (``{"item": [attribute ids]}``): the S3-Rec / SASRec
format, e.g. Amazon Beauty. Categories are the only modality there; the fusion model takes any
non-empty subset of modalities. Prints HR@10 / NDCG@10 under both protocols (100 sampled
negatives; full ranking with the history masked), all users evaluated on their last item.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from minirec.data.sequences import SequenceFolder
from minirec.features.categories import category_table
from minirec.train.seqrec import (
    LOSSES,
    MODEL_KINDS,
    SeqTrainConfig,
    build_seqrec,
    evaluate_seqrec,
    train_seqrec,
)
from minirec.utils import choose_device, set_seed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minirec.bench.seqrec",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="folder with <name>.txt [+ <name>_item2attributes.json]")
    parser.add_argument("--models", default="sasrec,fusion",
                        help=f"comma-separated, from {','.join(MODEL_KINDS)} (default sasrec,fusion)")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--loss", choices=LOSSES, default="bce", help="bce (SASRec's, default) or ce")
    parser.add_argument("--fusion", choices=("sum", "concat", "gate"), default="gate")
    parser.add_argument("--aux-weight", type=float, default=0.1, help="multitask weight of the fusion model")
    parser.add_argument("--max-length", type=int, default=50)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--dropout", type=float, default=0.5,
                        help="0.5: SASRec's value for the sparse Amazon data")
    parser.add_argument("--negatives", type=int, default=100, help="negatives of the sampled protocol")
    parser.add_argument("--eval-every", type=int, default=0,
                        help="also print validation HR@10 every N epochs (0: never)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or any(m not in MODEL_KINDS for m in models):
        parser.error(f"--models takes a comma-separated subset of {','.join(MODEL_KINDS)}, "
                     f"got {args.models!r}")
    dataset = SequenceFolder.load(args.data)
    sequence_file, sequences, num_items = dataset.sequence_file, dataset.sequences, dataset.num_items
    split = dataset.split()
    features = None
    if dataset.attributes is not None:
        features = {"category": category_table(dataset.attributes, num_items)}
    elif any(m != "sasrec" for m in models):
        parser.error(f"{args.data}: no <name>_item2attributes.json, so only --models sasrec can run")
    device = choose_device(args.device)
    print(f"{sequence_file}: {len(sequences)} users, {num_items} items, "
          f"{sum(len(s) for s in sequences.values())} interactions; device {device}", flush=True)
    rows = []
    for kind in models:
        set_seed(args.seed)
        model = build_seqrec(kind, num_items, features, fusion=args.fusion, seed=args.seed,
                             max_length=args.max_length, dim=args.dim, dropout=args.dropout)
        config = SeqTrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, loss=args.loss,
                                aux_weight=args.aux_weight if kind == "fusion" else 0.0, seed=args.seed)
        def validate(epoch: int, model=model, kind=kind) -> None:
            if args.eval_every and epoch % args.eval_every == 0:
                s = evaluate_seqrec(model, split, "valid", args.negatives, args.seed, device=device).scores()
                print(f"  {kind} epoch {epoch}: valid sampled HR@10 {s.hr_sampled:.4f}, "
                      f"full HR@10 {s.hr_full:.4f}", flush=True)

        start = time.perf_counter()
        train_seqrec(model, split.train, config, device, desc=kind, after_epoch=validate)
        minutes = (time.perf_counter() - start) / 60  # includes the validation prints, if any
        scores = evaluate_seqrec(model, split, "test", args.negatives, args.seed, device=device).scores()
        rows.append((kind, args.epochs, minutes, scores))
        print(f"{kind}: {minutes:.1f} min, sampled HR@10 {scores.hr_sampled:.4f}, "
              f"full HR@10 {scores.hr_full:.4f}", flush=True)
    print(f"\nloss {args.loss}; test = last item, all {len(sequences)} users; "
          f"sampled = {args.negatives} negatives the user never interacted with; "
          "full = all items, history masked")
    print(f"{'model':22s} {'epochs':>6s} {'train min':>9s} {'sampled HR@10':>13s} {'NDCG@10':>8s} "
          f"{'full HR@10':>10s} {'NDCG@10':>8s}")
    for kind, epochs, minutes, s in rows:
        label = f"{kind} (+categories)" if kind != "sasrec" else kind
        print(f"{label:22s} {epochs:6d} {minutes:9.1f} {s.hr_sampled:13.4f} {s.ndcg_sampled:8.4f} "
              f"{s.hr_full:10.4f} {s.ndcg_full:8.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
