"""Training on several processes: torchrun's environment, the process group and rank-0-only helpers.

``torchrun --nproc_per_node=N -m minirec.experiments.seqrec ...`` starts N copies of a command and
tells each one who it is through environment variables: ``RANK`` (0 to ``WORLD_SIZE - 1`` over
every machine), ``WORLD_SIZE`` and ``LOCAL_RANK`` (its index on this machine). :func:`start`
reads them and joins the processes into one group: ``gloo`` on the CPU, ``nccl`` on GPUs, where
each process takes the GPU ``cuda:LOCAL_RANK``. A plain ``python -m ...`` sets none of them; then
there is no process group, and every helper here does what a single process would do (``rank()``
is 0, ``is_main()`` is true, a reduction returns its input).

The data-parallel recipe that :func:`minirec.core.loop.fit` follows in a group:

- every process holds the same model (the same seed; DistributedDataParallel also copies rank 0's
  weights to the others when it wraps the model);
- every epoch has one shuffled order of the training rows, drawn from a generator that every
  process seeds alike (:func:`split_random_streams`); each global batch of ``batch_size`` rows is
  cut into ``WORLD_SIZE`` equal slices and process ``RANK`` takes its slice (:func:`shard_batches`);
- DistributedDataParallel averages the gradients, so every process takes the same optimiser step;
- dropout and negative sampling draw from each process's own random stream, so a run on several
  processes is not bit-identical to a run on one;
- the logged per-epoch losses are means over every process's examples (:func:`all_reduce_sum` of
  the sums); only rank 0 prints and writes files (:func:`is_main`, :func:`quiet_unless_main`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import distributed as dist

from minirec.core.runtime import choose_device

T = TypeVar("T")

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class Launch:
    """Who this process is in a torchrun launch: ``rank`` of ``world_size``, ``local_rank`` on its machine."""

    rank: int
    world_size: int
    local_rank: int

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size or self.local_rank < 0:
            raise ValueError(
                f"RANK={self.rank}, WORLD_SIZE={self.world_size}, LOCAL_RANK={self.local_rank}: expected "
                "WORLD_SIZE >= 1, 0 <= RANK < WORLD_SIZE and LOCAL_RANK >= 0"
            )


@dataclass(frozen=True)
class Shard:
    """Which of ``count`` equal, disjoint parts of every batch this process takes: part ``index``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}: expected 0 <= index < count")

    def rows_per_batch(self, batch_size: int) -> int:
        """``batch_size / count``, the rows of each global batch this process takes; a clear error
        unless ``batch_size`` is a multiple of ``count``."""
        if batch_size < 1 or batch_size % self.count:
            raise ValueError(
                f"batch_size={batch_size}: expected a multiple of the {self.count} processes "
                f"(each takes batch_size / {self.count} rows of every batch)"
            )
        return batch_size // self.count


def torchrun_environment(environ: Mapping[str, str] | None = None) -> Launch | None:
    """This process's :class:`Launch` from torchrun's variables, or ``None`` when none is set.

    Some but not all of ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` set, or a value that is not a
    whole number, is a clear ``ValueError``: running alone would write every file once per process.
    """
    environ = os.environ if environ is None else environ
    present = {name: environ[name] for name in TORCHRUN_VARIABLES if name in environ}
    if not present:
        return None
    if len(present) < len(TORCHRUN_VARIABLES):
        missing = [name for name in TORCHRUN_VARIABLES if name not in present]
        raise ValueError(
            f"environment variables {', '.join(f'{k}={v!r}' for k, v in present.items())} are set but "
            f"{', '.join(missing)} not: expected all of {', '.join(TORCHRUN_VARIABLES)} (as torchrun sets "
            "them) or none (a single process)"
        )
    values = {}
    for name, text in present.items():
        try:
            values[name] = int(text)
        except ValueError:
            raise ValueError(f"environment variable {name}={text!r}: expected a whole number") from None
    return Launch(values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"])


def backend_for(device: torch.device) -> str:
    """``nccl`` for CUDA devices, ``gloo`` for the CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


def start(prefer: str | None = None) -> torch.device:
    """Join torchrun's process group when launched by torchrun; returns this process's device.

    ``prefer`` is as in :func:`~minirec.core.runtime.choose_device`. Under torchrun a CUDA device
    becomes ``cuda:LOCAL_RANK`` (one GPU per process) with the ``nccl`` backend; the CPU uses
    ``gloo``. Without torchrun's variables nothing is started and the device is ``choose_device``'s.
    """
    launch = torchrun_environment()
    device = choose_device(prefer)
    if launch is None:
        return device
    if device.type == "cuda":
        if launch.local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"LOCAL_RANK={launch.local_rank}: expected fewer processes per machine than its "
                f"{torch.cuda.device_count()} GPUs (one GPU per process)"
            )
        device = torch.device("cuda", launch.local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group(
        backend_for(device),
        rank=launch.rank,
        world_size=launch.world_size,
        device_id=device if device.type == "cuda" else None,
    )
    return device


def stop() -> None:
    """Leave the process group, if one was started."""
    if is_distributed():
        dist.destroy_process_group()


def is_distributed() -> bool:
    """Whether this process is in a process group."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """The number of processes (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """Whether this process is rank 0, the one that prints and writes files (true when alone)."""
    return rank() == 0


def current_shard() -> Shard | None:
    """This process's :class:`Shard` of every batch, or ``None`` without a process group."""
    return Shard(rank(), world_size()) if is_distributed() else None


def local_rank() -> int:
    """This process's index on its machine (0 without a process group)."""
    launch = torchrun_environment()
    return launch.local_rank if launch is not None and is_distributed() else 0


@contextlib.contextmanager
def main_process_first() -> Iterator[None]:
    """Run the block on each machine's first process, then on the others.

    For work that fills a cache on disk (item features): the first process computes and writes it,
    the others then read it instead of computing it again at the same time.
    """
    first = local_rank() == 0
    if is_distributed() and not first:
        dist.barrier()
    try:
        yield
    finally:
        if is_distributed() and first:
            dist.barrier()


@contextlib.contextmanager
def quiet_unless_main() -> Iterator[None]:
    """Send standard output to nowhere on every process but rank 0 (errors still reach stderr)."""
    if is_main():
        yield
        return
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def reduction_device() -> torch.device:
    """Where a collective's tensors must live: this process's GPU for ``nccl``, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sum(values: Mapping[str, float]) -> dict[str, float]:
    """Each value summed over every process (in float64); the input as it is without a process group.

    Every process must pass the same keys; they travel in sorted order, so insertion order may differ.
    """
    if not is_distributed():
        return dict(values)
    names = sorted(values)
    total = torch.tensor([float(values[n]) for n in names], dtype=torch.float64, device=reduction_device())
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    summed = dict(zip(names, total.tolist(), strict=True))
    return {name: summed[name] for name in values}


def broadcast_from_main(value: T) -> T:
    """Rank 0's ``value`` on every process (any picklable object); ``value`` itself when alone."""
    if not is_distributed():
        return value
    box: list[object] = [value]
    dist.broadcast_object_list(box, src=0, device=reduction_device())
    return box[0]  # type: ignore[return-value]


def split_random_streams() -> torch.Generator:
    """A generator that every process seeds alike, and a random stream of its own for each process.

    Rank 0 draws a seed from torch's global generator and sends it to every process. The returned
    generator is seeded with it: every process draws the same batch orders from it. Then each
    process reseeds torch's global generator (CPU and CUDA) with ``seed + 1 + rank``, so dropout and
    negative sampling differ between processes instead of repeating the same draws on every shard.
    """
    seed = broadcast_from_main(int(torch.randint(0, 2**62, ())))
    shared = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed + 1 + rank())
    return shared


def shard_batches(order: torch.Tensor, batch_size: int, shard: Shard) -> list[torch.Tensor]:
    """This process's slice of every global batch of ``order`` (the epoch's row indices, shared).

    ``order`` is first padded with its own first rows to a multiple of ``shard.count`` (as torch's
    ``DistributedSampler`` does: at most ``count - 1`` rows are seen twice), then cut into global
    batches of ``batch_size`` rows; process ``shard.index`` takes the ``index``-th of ``count``
    equal, consecutive slices of each. So every process gets the same number of batches (no
    collective waits for a process that has run out), each of ``batch_size / count`` rows (the last
    possibly fewer, the same on every process), and together they cover every row of ``order``.
    """
    shard.rows_per_batch(batch_size)  # raises unless batch_size is a multiple of count
    if len(order) == 0:
        return []
    padded = -(-len(order) // shard.count) * shard.count
    order = order[torch.arange(padded) % len(order)]
    parts = []
    for start in range(0, padded, batch_size):
        batch = order[start : start + batch_size]
        rows = len(batch) // shard.count
        parts.append(batch[shard.index * rows : (shard.index + 1) * rows])
    return parts
