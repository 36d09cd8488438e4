"""Property-based fuzzing of every reader: arbitrary bytes and mutations of valid files either load
or raise the project's error naming the file. Any other exception (a bare ``ValueError``,
``StopIteration``, ``KeyError``, ``RecursionError``, a zlib error...) fails the test.

40 examples per reader and strategy by default; ``MINIREC_FUZZ_EXAMPLES=1000`` fuzzes harder."""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from minirec.data.amazon import read_metadata, read_reviews
from minirec.data.errors import DataFormatError
from minirec.data.pictures import read_picture
from minirec.data.polyvore import read_fitb, read_image_list, read_item_records, read_tuples
from minirec.data.sequences import read_item_attributes, read_sequences
from minirec.experiments.runs import Run, load_run, save_run

ITEMS = {"top": 3, "bottom": 3, "shoe": 3}


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
        buffer, "PNG"
    )
    return buffer.getvalue()


def run_record() -> bytes:
    return json.dumps(
        {"name": "a", "experiment": "fhn", "config": {"dim": 8}, "metrics": {"AUC": 0.5}}
    ).encode()


# reader, file name (the suffix matters for .gz), one valid file
READERS: dict[str, tuple[Callable[[Path], object], str, bytes]] = {
    "sequences": (read_sequences, "seq.txt", b"1 3 4 5\n2 1 2 3 4\n3 5 6 7\n"),
    "sequences.gz": (read_sequences, "seq.txt.gz", gzip.compress(b"1 3 4 5\n2 1 2 3 4\n", mtime=0)),
    "item2attributes": (read_item_attributes, "a.json", b'{"1": [1, 2], "2": [3], "3": []}'),
    "tuples": (
        lambda p: read_tuples(p, num_items=ITEMS),
        "tuples_train_posi",
        b"user,top,bottom,shoe\n0,0,1,2\n1,2,2,2\n",
    ),
    "fitb": (
        lambda p: read_fitb(p, ITEMS),
        "fill_in_blank_test",
        b"user,top,bottom,shoe,user,top,bottom,shoe\n0,0,1,2,0,1,1,2\n",
    ),
    "image list": (read_image_list, "image_list_top", b"images/top0.png\nimages/top1.png\n"),
    "item records": (
        lambda p: read_item_records(p, 2),
        "items_top.jsonl",
        b'{"id": 0, "text": "a red top", "attributes": {"style": "casual"}}\n'
        b'{"id": 1, "text": "a blue top", "attributes": {"style": "formal"}}\n',
    ),
    "reviews": (
        read_reviews,
        "reviews.json",
        b'{"reviewerID": "A1", "asin": "B1", "unixReviewTime": 5}\n'
        b'{"reviewerID": "A2", "asin": "B1", "unixReviewTime": 7}\n',
    ),
    "metadata (python literals)": (
        read_metadata,
        "meta.json",
        b"{'asin': 'B1', 'title': 'Cream', 'categories': [['Beauty', 'Skin']]}\n"
        b"{'asin': 'B2', 'brand': 'X'}\n",
    ),
    "picture": (read_picture, "item.png", png(0)),
    "run record": (load_run, "run.json", run_record()),
}


def check_reader(read: Callable[[Path], object], path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        read(path)
    except DataFormatError as error:
        assert str(path) in str(error), f"the error does not name the file: {error}"


@st.composite
def mutations(draw, valid: bytes) -> bytes:
    """A valid file with a few bytes inserted, deleted or replaced, or cut short, or lines shuffled."""
    data = bytearray(valid)
    kind = draw(st.sampled_from(["edit", "truncate", "lines"]))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))])
    if kind == "lines":
        lines = bytes(data).split(b"\n")
        return b"\n".join(draw(st.permutations(lines))[: draw(st.integers(0, len(lines)))])
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(
            st.sampled_from(
                [b"-", b"--5", b"\xb2", b"\xc3", b",", b"\n", b"[", b"{", b'"', b"1e20", b"99999", b"\x00"]
            )
        )
        if action == "insert":
            data[position:position] = chunk
        elif action == "delete":
            del data[position : position + len(chunk)]
        else:
            data[position : position + len(chunk)] = chunk
    return bytes(data)


FUZZ = settings(
    max_examples=int(os.environ.get("MINIREC_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("name", list(READERS))
def test_valid_files_load(tmp_path, name):
    read, file_name, valid = READERS[name]
    (tmp_path / file_name).write_bytes(valid)
    read(tmp_path / file_name)


@pytest.mark.parametrize("name", list(READERS))
@FUZZ
@given(content=st.binary(max_size=300))
def test_arbitrary_bytes_load_or_raise_a_named_error(tmp_path, name, content):
    read, file_name, _ = READERS[name]
    check_reader(read, tmp_path / file_name, content)


@pytest.mark.parametrize("name", list(READERS))
@FUZZ
@given(data=st.data())
def test_mutated_valid_files_load_or_raise_a_named_error(tmp_path, name, data):
    read, file_name, valid = READERS[name]
    check_reader(read, tmp_path / file_name, data.draw(mutations(valid)))


def test_run_records_round_trip(tmp_path):
    save_run(tmp_path / "r.json", Run("a", "fhn", {"dim": 8}, {"AUC": 0.5}))
    assert load_run(tmp_path / "r.json").metrics == {"AUC": 0.5}
