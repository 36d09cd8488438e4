"""One pattern for every experiment: a frozen dataclass config, a command line derived from it,
multi-seed runs and saved run records.

A config's fields carry their own documentation and range in ``metadata`` (:func:`option`), so
the defaults are written once, the checks live in one place (:meth:`ExperimentConfig.__post_init__`)
and ``--help`` is generated from the same text. :func:`run_command` is the ``main`` of every
experiment module: it parses and validates the flags (a clear error naming the flag, the value
and what was expected, before any data is read), loads the data once, runs each seed of
``--seeds``, saves one run record per seed with ``--save`` and prints mean ± std per metric.

The same command runs on several processes under torchrun (``torchrun --nproc_per_node=N -m
minirec.experiments.seqrec ...``): :func:`run_command` joins the process group
(:mod:`minirec.core.distributed`), the trainers split every batch between the processes, and only
rank 0 prints and saves. Without torchrun nothing changes.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NoReturn, TypeVar

import torch

from minirec.core.distributed import (
    broadcast_from_main,
    main_process_first,
    quiet_unless_main,
    start,
    stop,
    torchrun_environment,
)
from minirec.data.errors import DataFormatError
from minirec.experiments.runs import Run, save_run, summarise

C = TypeVar("C", bound="ExperimentConfig")
D = TypeVar("D")


class ConfigError(ValueError):
    """A config field out of range: names the field, the value and what was expected."""

    def __init__(self, name: str, value: Any, expected: str) -> None:
        self.name, self.value, self.expected = name, value, expected
        super().__init__(f"{name}={value!r}: expected {expected}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def option(
    help: str,
    *,
    choices: Sequence[str] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    multiple_of: int | None = None,
    zero_ok: bool = False,
) -> dict[str, Any]:
    """Field metadata: the ``--help`` text and the allowed values of one setting.

    ``minimum``/``maximum`` are inclusive, ``above`` exclusive; ``choices`` restricts a string (or,
    for a tuple field, each of its entries); ``multiple_of`` with ``zero_ok`` allows 0 as "off".
    """
    return {
        "help": help,
        "choices": tuple(choices) if choices else None,
        "minimum": minimum,
        "maximum": maximum,
        "above": above,
        "multiple_of": multiple_of,
        "zero_ok": zero_ok,
    }


def field_types(cls: type) -> dict[str, Any]:
    """Resolved type hints of a dataclass (``from __future__ import annotations`` makes them strings)."""
    return typing.get_type_hints(cls)


def check_field(name: str, value: Any, kind: Any, meta: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` unless ``value`` has type ``kind`` and lies in ``meta``'s range."""
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ConfigError(name, value, "an integer")
    if kind is float and (
        not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value)
    ):
        raise ConfigError(name, value, "a finite number")
    if kind is str and not isinstance(value, str):
        raise ConfigError(name, value, "a string")
    choices = meta.get("choices")
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, tuple) or not value or len(set(value)) != len(value):
            raise ConfigError(name, value, "a non-empty tuple without repeats")
        if choices and any(v not in choices for v in value):
            raise ConfigError(name, value, f"a subset of {', '.join(choices)}")
        return
    if choices and value not in choices:
        raise ConfigError(name, value, f"one of {', '.join(choices)}")
    if meta.get("zero_ok") and value == 0:
        return
    off = " (or 0: off)" if meta.get("zero_ok") else ""
    for key, holds, text in (
        ("minimum", lambda v, b: v >= b, ">="),
        ("maximum", lambda v, b: v <= b, "<="),
        ("above", lambda v, b: v > b, ">"),
    ):
        bound = meta.get(key)
        if bound is not None and not holds(value, bound):
            raise ConfigError(name, value, f"a number {text} {bound}{off}")
    step = meta.get("multiple_of")
    if step and value % step:
        raise ConfigError(name, value, f"a multiple of {step}{off}")


@dataclass(frozen=True)
class ExperimentConfig:
    """Base of every experiment config: ``seed`` plus the checks of each field's :func:`option`."""

    seed: int = field(
        default=0, metadata=option("random seed of the run (set once, at its start)", minimum=0)
    )

    def __post_init__(self) -> None:
        kinds = field_types(type(self))
        for f in dataclasses.fields(self):
            check_field(f.name, getattr(self, f.name), kinds[f.name], dict(f.metadata))


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` -> ``(0, 1, 2)``; also ``"0-4"`` for a range. Distinct, non-negative."""
    seeds: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            low, _, high = part.partition("-")
            seeds += list(range(int(low), int(high) + 1)) if high else [int(low)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds like 0,1,2 or 0-4, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"expected distinct non-negative seeds like 0,1,2, got {text!r}")
    return tuple(seeds)


def _tuple_of_names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip())) or ("",)


def add_config_arguments(parser: argparse.ArgumentParser, config_class: type[ExperimentConfig]) -> None:
    """One typed flag per config field (``seed`` excepted: ``--seeds`` sets it), help from metadata."""
    kinds = field_types(config_class)
    for f in dataclasses.fields(config_class):
        if f.name == "seed":
            continue
        meta, kind = dict(f.metadata), kinds[f.name]
        default: Any = f.default
        many = typing.get_origin(kind) is tuple
        shown = f"comma-separated; default {','.join(default)}" if many else f"default {default}"
        if meta.get("choices"):
            shown += f"; {'from' if many else 'one of'} {', '.join(meta['choices'])}"
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            type=_tuple_of_names if many else kind,
            default=default,
            metavar="A,B" if many else f.name.upper(),
            help=f"{meta['help']} ({shown})",
        )


@dataclass
class Experiment(Generic[C, D]):
    """What an experiment module provides to :func:`run_command`.

    ``load(folder, device)`` reads the data (``None``: the sample) and prepares features;
    ``check(config, data)`` may refuse a combination the data cannot run (``ConfigError``);
    ``run(config, data, device)`` trains and evaluates one seed and returns its metrics;
    ``report(config, data, metrics)`` is what one run prints.
    """

    name: str
    config_class: type[C]
    description: str
    load: Callable[[Path | None, torch.device], D]
    run: Callable[[C, D, torch.device], dict[str, float]]
    report: Callable[[C, D, dict[str, float]], str]
    check: Callable[[C, D], None] = lambda config, data: None
    data_help: str = "a dataset folder (default: the sample in data_samples/)"
    data_required: bool = False

    def main(self, argv: Sequence[str] | None = None) -> int:
        """The experiment module's ``main``: :func:`run_command` for this experiment."""
        return run_command(self, argv)


def build_parser(experiment: Experiment[Any, Any]) -> argparse.ArgumentParser:
    """The experiment's command line: its config's flags, then the shared ones."""
    parser = argparse.ArgumentParser(
        prog=f"python -m minirec.experiments.{experiment.name}",
        description=experiment.description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=None, help=experiment.data_help)
    add_config_arguments(parser, experiment.config_class)
    parser.add_argument(
        "--seeds",
        type=parse_seeds,
        default=(0,),
        help="seeds to run, e.g. 0,1,2 or 0-4: one run each, then mean ± std (default 0)",
    )
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument(
        "--save",
        type=Path,
        default=None,
        help="save each run as JSON: FILE with one seed, FILE-seed<N>.json with several",
    )
    parser.add_argument("--name", default=None, help="the run's name in comparisons (default: the file stem)")
    return parser


def configs_from_arguments(experiment: Experiment[C, Any], args: argparse.Namespace) -> list[C]:
    """One validated config per seed (a :class:`ConfigError` names the flag)."""
    names = [f.name for f in dataclasses.fields(experiment.config_class) if f.name != "seed"]
    return [experiment.config_class(**{n: getattr(args, n) for n in names}, seed=seed) for seed in args.seeds]


def unwritable(path: Path) -> str | None:
    """Why a file could not be written at ``path`` (checked before any training), or ``None``."""
    folder = path.parent
    while not folder.exists():
        if folder.is_symlink():
            return f"expected a writable folder, but {folder} is a broken symbolic link"
        folder = folder.parent
    if not folder.is_dir():
        return f"expected a writable folder, but {folder} is a file"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"expected a writable folder, but {folder} is not writable"
    return None


def run_files(save: Path, seeds: Sequence[int]) -> list[Path]:
    """Where each seed's record goes: ``save`` itself for one seed, ``<stem>-seed<N>.json`` for several."""
    if len(seeds) == 1:
        return [save]
    return [save.with_name(f"{save.stem}-seed{seed}.json") for seed in seeds]


def refuse(parser: argparse.ArgumentParser, error: ConfigError) -> NoReturn:
    """Exit with a usage error naming the flag, the value and what was expected."""
    parser.error(f"argument {error.flag}: got {error.value!r}, expected {error.expected}")


def processes_launched(parser: argparse.ArgumentParser) -> int:
    """How many processes torchrun started (1 without torchrun); a usage error if its variables are wrong."""
    try:
        launch = torchrun_environment()
    except ValueError as error:
        parser.error(str(error))
    return launch.world_size if launch is not None else 1


def check_batch_split(parser: argparse.ArgumentParser, config: ExperimentConfig, processes: int) -> None:
    """Refuse a training batch that the processes cannot share equally (before any data is read)."""
    batch_size = getattr(config, "batch_size", None)
    if isinstance(batch_size, int) and batch_size % processes:
        parser.error(
            f"the training batch size {batch_size} is not a multiple of the {processes} processes torchrun "
            f"started: expected a multiple of {processes}, as each process takes batch size / {processes} "
            "rows of every batch"
        )


def run_command(experiment: Experiment[Any, Any], argv: Sequence[str] | None = None) -> int:
    """Parse, validate, load the data once, run every seed, save and summarise. Returns the exit code.

    Under torchrun every process runs this; they train together (one model, every batch split
    between them) and rank 0 alone prints and writes the run files.
    """
    parser = build_parser(experiment)
    args = parser.parse_args(argv)
    try:
        configs = configs_from_arguments(experiment, args)
    except ConfigError as error:
        refuse(parser, error)
    if args.save is not None and (args.save.is_dir() or args.save.suffix != ".json"):
        parser.error(f"argument --save: got {str(args.save)!r}, expected a file name ending in .json")
    if args.save is not None and (problem := unwritable(args.save)):
        parser.error(f"argument --save: got {str(args.save)!r}, {problem}")
    if args.data is None and experiment.data_required:
        parser.error("argument --data: required (a dataset folder)")
    if args.data is not None and not args.data.is_dir():
        parser.error(f"argument --data: {str(args.data)!r} is not a folder")
    processes = processes_launched(parser)
    check_batch_split(parser, configs[0], processes)
    try:
        device = start(args.device)  # joins torchrun's process group, if launched by torchrun
    except ValueError as error:
        parser.error(str(error))
    try:
        with quiet_unless_main():
            if processes > 1:
                print(f"{processes} processes (torchrun), device {device} on rank 0", flush=True)
            return run_seeds(experiment, parser, args, configs, device)
    finally:
        stop()


def run_seeds(
    experiment: Experiment[Any, Any],
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    configs: list[Any],
    device: torch.device,
) -> int:
    """Load the data once, run every seed, save (rank 0) and summarise. Returns the exit code."""
    try:
        with main_process_first():  # the first process on each machine fills the feature cache
            data = experiment.load(args.data, device)
    except (DataFormatError, FileNotFoundError) as error:  # bad data: the message names file and line
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    try:
        experiment.check(configs[0], data)
    except ConfigError as error:
        refuse(parser, error)
    name = args.name or (args.save.stem if args.save else experiment.name)
    runs = []
    files = run_files(args.save, args.seeds) if args.save else [None] * len(configs)
    for config, path in zip(configs, files, strict=True):
        metrics = broadcast_from_main(experiment.run(config, data, device))  # rank 0's clock and scores
        print(experiment.report(config, data, metrics), flush=True)
        run = Run(name, experiment.name, dataclasses.asdict(config), metrics)
        runs.append(run)
        if path is not None:
            save_run(path, run)  # rank 0 alone writes
            print(f"saved {path}")
    if len(runs) > 1:
        print(f"\n{name}: mean ± std over seeds {', '.join(map(str, args.seeds))}")
        print(summarise(runs))
    return 0


def describe(config: ExperimentConfig) -> str:
    """``key=value, ...`` of every setting (one line, for a run's heading)."""
    return ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(config).items())
