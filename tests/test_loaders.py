"""Every reader rejects bad input with an error naming the file, the line and what was expected."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from minirec.data.amazon import read_metadata, read_reviews, reviews_to_sequences
from minirec.data.errors import DataFormatError
from minirec.data.polyvore import PolyvoreU, read_fitb, read_image_list, read_tuples
from minirec.data.sequences import (
    LeaveOneOut,
    NextItemDataset,
    SequenceFolder,
    left_pad,
    read_item_attributes,
    read_sequences,
)

ITEMS = {"top": 3, "bottom": 3, "shoe": 3}


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def raises_at(path: Path, line: int | None, *fragments: str):
    """Context manager: a DataFormatError naming ``path``, ``line`` and each fragment."""
    where = re.escape(f"{path}, line {line}:" if line is not None else f"{path}:")
    return pytest.raises(DataFormatError, match=where + ".*" + ".*".join(map(re.escape, fragments)))


# ---------------------------------------------------------------- Polyvore-U tuples


def test_tuples_read_and_range_checked(tmp_path):
    path = write(tmp_path / "t.csv", "user,top,bottom,shoe\n0,1,2,0\n1,0,0,2\n")
    assert read_tuples(path, num_users=2, num_items=ITEMS).tolist() == [[0, 1, 2, 0], [1, 0, 0, 2]]


def test_tuples_malformed_row(tmp_path):
    path = write(tmp_path / "t.csv", "user,top,bottom,shoe\n0,1,2,0\n0,x,2,0\n")
    with raises_at(path, 3, "column 'top'", "integer", "'x'"):
        read_tuples(path)


def test_tuples_wrong_column_count(tmp_path):
    path = write(tmp_path / "t.csv", "user,top,bottom,shoe\n0,1,2,0\n0,1,2\n")
    with raises_at(path, 3, "expected 4 columns", "got 3"):
        read_tuples(path)


def test_tuples_wrong_header(tmp_path):
    path = write(tmp_path / "t.csv", "user,top,shoe,bottom\n0,1,2,0\n")
    with raises_at(path, 1, "expected the header user,top,bottom,shoe or user,top,top,bottom,shoe"):
        read_tuples(path)


def test_tuples_with_two_tops_copy_a_missing_second_top(tmp_path):
    path = write(tmp_path / "t", "user,top,top,bottom,shoe\n0,1,2,0,0\n1,2,-1,1,1\n")
    assert read_tuples(path, num_items=ITEMS).tolist() == [[0, 1, 2, 0, 0], [1, 2, 2, 1, 1]]
    bad = write(tmp_path / "u", "user,top,top,bottom,shoe\n0,1,2,-1,0\n")
    with raises_at(bad, 2, "unknown item id -1 in column 'bottom'"):
        read_tuples(bad, num_items=ITEMS)


def test_tuples_unknown_item_id(tmp_path):
    path = write(tmp_path / "t.csv", "user,top,bottom,shoe\n0,1,2,0\n0,1,7,0\n")
    with raises_at(path, 3, "unknown item id 7", "'bottom'", "expected 0..2"):
        read_tuples(path, num_items=ITEMS)


def test_tuples_unknown_user_id(tmp_path):
    path = write(tmp_path / "t.csv", "user,top,bottom,shoe\n5,1,2,0\n")
    with raises_at(path, 2, "unknown user id 5", "expected 0..1"):
        read_tuples(path, num_users=2)


def test_tuples_non_utf8(tmp_path):
    path = write(tmp_path / "t.csv", b"user,top,bottom,shoe\n0,1,2,0\n0,1,\xff2,0\n")
    with raises_at(path, 3, "byte 4 is not valid UTF-8", "expected a UTF-8 text file"):
        read_tuples(path)


FITB_HEADER = ",".join(["user,top,bottom,shoe"] * 4) + "\n"


def test_fitb_reads_the_official_layout(tmp_path):
    path = write(tmp_path / "fill_in_blank_test", FITB_HEADER + "0,1,2,0,0,1,0,0,0,1,1,0,0,1,2,1\n")
    questions = read_fitb(path, ITEMS)
    assert questions.shape == (1, 4, 4) and questions[0, 3, 3] == 1
    assert questions[0, :, 2].tolist() == [2, 0, 1, 2]


def test_fitb_candidates_must_differ_in_one_slot(tmp_path):
    path = write(tmp_path / "fill_in_blank_test", FITB_HEADER + "0,1,2,0,0,1,0,0,0,1,1,0,0,0,0,0\n")
    with raises_at(path, 2, "differ from the first in exactly one slot"):
        read_fitb(path, ITEMS)


def test_fitb_wrong_column_count(tmp_path):
    path = write(tmp_path / "fill_in_blank_test", FITB_HEADER + "0,1,2,0,0,1,0,0\n")
    with raises_at(path, 2, "expected 16 columns", "got 8"):
        read_fitb(path, ITEMS)


# ---------------------------------------------------------------- Polyvore-U folder


def make_polyvore(root: Path) -> Path:
    for category in ITEMS:
        (root / "images").mkdir(parents=True, exist_ok=True)
        names = [f"images/{category}{i}.png" for i in range(3)]
        for name in names:
            write(root / name, b"png")
        write(root / f"image_list_{category}", "\n".join(names) + "\n")
    for split in ("train", "val", "test"):  # the release's names have no extension
        write(root / f"tuples_{split}_posi", "user,top,bottom,shoe\n0,0,1,2\n1,2,2,2\n")
        write(root / f"tuples_{split}_nega", "user,top,bottom,shoe\n0,1,1,1\n1,0,0,0\n")
    return root


def test_polyvore_folder_loads(tmp_path):
    data = PolyvoreU.load(make_polyvore(tmp_path))
    assert data.num_users == 2 and data.num_items == ITEMS and data.slots == ("top", "bottom", "shoe")
    assert data.tuples["train"]["posi"].shape == (2, 4) and data.fitb is None


def test_polyvore_images_in_a_separate_folder(tmp_path):
    root = make_polyvore(tmp_path / "tuples_630")
    (root / "images").rename(tmp_path / "291x291")
    for category in ITEMS:  # the release lists bare file names
        names = (root / f"image_list_{category}").read_text().replace("images/", "")
        write(root / f"image_list_{category}", names)
        for name in names.split():
            (tmp_path / "291x291" / f"images/{name}").parent.mkdir(parents=True, exist_ok=True)
    data = PolyvoreU.load(root, image_dir=tmp_path / "291x291")
    assert data.image_path("top", 1) == tmp_path / "291x291" / "top1.png"
    with raises_at(root / "image_list_top", 1, "'top0.png' not found"):
        PolyvoreU.load(root)


def test_polyvore_accepts_a_csv_suffix(tmp_path):
    root = make_polyvore(tmp_path)
    (root / "tuples_val_nega").rename(root / "tuples_val_nega.csv")
    assert PolyvoreU.load(root).tuples["val"]["nega"].tolist() == [[0, 1, 1, 1], [1, 0, 0, 0]]


def test_polyvore_missing_image_file(tmp_path):
    root = make_polyvore(tmp_path)
    (root / "images" / "bottom1.png").unlink()
    with raises_at(root / "image_list_bottom", 2, "'images/bottom1.png' not found"):
        PolyvoreU.load(root)


def test_polyvore_negatives_must_be_row_aligned(tmp_path):
    root = make_polyvore(tmp_path)
    write(root / "tuples_val_nega", "user,top,bottom,shoe\n0,1,1,1\n")
    with raises_at(root / "tuples_val_nega", None, "expected 2 rows of 4 columns, row-aligned"):
        PolyvoreU.load(root)


def test_polyvore_optional_file_that_is_a_broken_link_is_not_skipped(tmp_path):
    root = make_polyvore(tmp_path)
    (root / "tuples_val_nega").unlink()
    (root / "tuples_val_nega").symlink_to(tmp_path / "elsewhere" / "tuples_val_nega")
    with pytest.raises(DataFormatError, match=r"tuples_val_nega: is a broken symbolic link"):
        PolyvoreU.load(root)


def test_polyvore_unknown_item_in_folder(tmp_path):
    root = make_polyvore(tmp_path)
    write(root / "tuples_test_posi", "user,top,bottom,shoe\n0,0,1,2\n1,2,3,2\n")
    with raises_at(root / "tuples_test_posi", 3, "unknown item id 3"):
        PolyvoreU.load(root)


def test_image_list_empty_line(tmp_path):
    path = write(tmp_path / "image_list_top", "a.png\n\nb.png\n")
    with raises_at(path, 2, "empty line", "image file name"):
        read_image_list(path)


# ---------------------------------------------------------------- sequences


def test_sequences_read(tmp_path):
    path = write(tmp_path / "s.txt", "1 3 4 5\n2 1 2 3 4\n")
    assert read_sequences(path) == {1: [3, 4, 5], 2: [1, 2, 3, 4]}


def test_sequences_empty_sequence(tmp_path):
    path = write(tmp_path / "s.txt", "1 3 4 5\n2\n")
    with raises_at(path, 2, "user 2 has an empty sequence", "at least one item"):
        read_sequences(path)


def test_sequences_malformed_token(tmp_path):
    path = write(tmp_path / "s.txt", "1 3 4 5\n2 1 two 3\n")
    with raises_at(path, 2, "expected integer ids", "'two'"):
        read_sequences(path)


def test_sequences_duplicate_user(tmp_path):
    path = write(tmp_path / "s.txt", "1 3 4 5\n1 1 2 3\n")
    with raises_at(path, 2, "user 1 appears twice"):
        read_sequences(path)


def test_sequences_zero_is_reserved(tmp_path):
    path = write(tmp_path / "s.txt", "1 0 4 5\n")
    with raises_at(path, 1, "(0 is reserved for padding)"):
        read_sequences(path)


def test_sequences_non_utf8(tmp_path):
    path = write(tmp_path / "s.txt", b"1 3 4 5\n2 1 \xc3\x28 3\n")
    with raises_at(path, 2, "not valid UTF-8"):
        read_sequences(path)


def test_item_attributes(tmp_path):
    path = write(tmp_path / "a.json", json.dumps({"1": [1, 2], "2": [3]}))
    assert read_item_attributes(path, num_items=2) == {1: [1, 2], 2: [3]}
    with pytest.raises(DataFormatError, match=re.escape(f"{path}: unknown item id 2; expected 1..1")):
        read_item_attributes(path, num_items=1)
    bad = write(tmp_path / "b.json", '{"1": [1, 2],\n "2": [3,]}')
    with raises_at(bad, 2, "not valid JSON"):
        read_item_attributes(bad)


def test_leave_one_out_and_windows():
    split = LeaveOneOut.split({1: [1, 2, 3, 4], 2: [5, 6, 7]})
    assert split.train == {1: [1, 2], 2: [5]} and split.valid == {1: 3, 2: 6}
    assert split.test == {1: 4, 2: 7} and split.history(1, "test") == [1, 2, 3]
    assert left_pad([1, 2, 3], 5).tolist() == [0, 0, 1, 2, 3]
    assert left_pad([1, 2, 3], 2).tolist() == [2, 3]
    inputs, targets = NextItemDataset({1: [1, 2, 3]}, max_length=4)[0]
    assert inputs.tolist() == [0, 0, 1, 2] and targets.tolist() == [0, 0, 2, 3]
    with pytest.raises(ValueError, match="needs >= 3 items"):
        LeaveOneOut.split({1: [1, 2]})


# ---------------------------------------------------------------- Amazon JSON lines


def test_reviews_missing_field(tmp_path):
    path = write(
        tmp_path / "r.jsonl",
        '{"reviewerID": "A1", "asin": "B1", "unixReviewTime": 5}\n{"reviewerID": "A1", "asin": "B2"}\n',
    )
    with raises_at(path, 2, "missing field 'unixReviewTime'"):
        read_reviews(path)


def test_reviews_wrong_type(tmp_path):
    path = write(tmp_path / "r.jsonl", '{"reviewerID": "A1", "asin": "B1", "unixReviewTime": "soon"}\n')
    with raises_at(path, 1, "'unixReviewTime' should be int", "'soon'"):
        read_reviews(path)


def test_reviews_time_with_odd_digits(tmp_path):
    path = write(tmp_path / "r.jsonl", '{"reviewerID": "A1", "asin": "B1", "unixReviewTime": "\u00b2"}\n')
    with raises_at(path, 1, "'unixReviewTime' should be int", "'²'"):
        read_reviews(path)


def test_reviews_malformed_json(tmp_path):
    path = write(
        tmp_path / "r.jsonl", '{"reviewerID": "A1", "asin": "B1", "unixReviewTime": 5}\n{"reviewerID": \n'
    )
    with raises_at(path, 2, "not a JSON object"):
        read_reviews(path)


def test_reviews_non_utf8(tmp_path):
    path = write(tmp_path / "r.jsonl", b'{"reviewerID": "A\xe91", "asin": "B1", "unixReviewTime": 5}\n')
    with raises_at(path, 1, "byte 17 is not valid UTF-8"):
        read_reviews(path)


def test_metadata_accepts_2014_python_literals(tmp_path):
    path = write(
        tmp_path / "m.json",
        "{'asin': 'B1', 'title': \"L'Oreal cream\", 'categories': [['Beauty', 'Skin Care']]}\n"
        '{"asin": "B2", "brand": "X", "categories": [["Beauty", "Makeup"]]}\n',
    )
    meta = read_metadata(path)
    assert meta["B1"].title == "L'Oreal cream" and meta["B2"].categories == (("Beauty", "Makeup"),)


def test_metadata_bad_categories(tmp_path):
    path = write(tmp_path / "m.jsonl", '{"asin": "B1", "categories": "Beauty"}\n')
    with raises_at(path, 1, "'categories' should be a list of lists of strings"):
        read_metadata(path)


def test_reviews_to_sequences_orders_by_time_and_filters(tmp_path):
    lines = [
        {"reviewerID": u, "asin": i, "unixReviewTime": t}
        for u, i, t in [("A2", "B3", 30), ("A2", "B1", 10), ("A2", "B2", 20), ("A1", "B1", 5)]
    ]
    path = write(tmp_path / "r.jsonl", "\n".join(map(json.dumps, lines)) + "\n")
    data = reviews_to_sequences(read_reviews(path), min_user=2, min_item=1)
    assert data.user_names == ["A2"] and data.item_names == ["B1", "B2", "B3"]
    assert data.sequences == {1: [1, 2, 3]}


def test_readers_leave_nothing_behind_on_failure(tmp_path):
    """Readers never write; the writers they feed are atomic (see test_generate)."""
    path = write(tmp_path / "s.txt", "1 3\n2\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DataFormatError):
        read_sequences(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert np.array_equal(left_pad([], 2), [0, 0])


def test_a_utf8_byte_order_mark_is_ignored(tmp_path):
    path = write(tmp_path / "t", "\ufeffuser,top,bottom,shoe\r\n0,1,2,0\r\n".encode())
    assert read_tuples(path).tolist() == [[0, 1, 2, 0]]


def test_torch_datasets_over_the_sample():
    from minirec.data.polyvore import ItemImages, OutfitPairs
    from minirec.data.samples import load_fashion

    data = load_fashion()
    image, item = ItemImages(data, "shoe")[5]
    assert item == 5 and image.shape == (3, 48, 48) and 0.0 <= image.min() and image.max() <= 1.0
    pairs = OutfitPairs(data.tuples["train"]["posi"], data.tuples["train"]["nega"])
    user, positive, negative = pairs[0]
    assert len(pairs) == 6000 and positive.shape == negative.shape == (3,)
    assert user.item() == data.tuples["train"]["posi"][0, 0]
    with pytest.raises(ValueError, match="row-aligned"):
        OutfitPairs(data.tuples["train"]["posi"], data.tuples["val"]["nega"])


# ---------------------------------------------------------------- ids without bounds, content checks


@pytest.mark.parametrize("token", ["--5", "²", "1e20", "１", "3.0", "1_000"])
def test_sequences_odd_tokens_are_named(tmp_path, token):
    path = write(tmp_path / "s.txt", f"1 3 4 5\n2 1 {token} 3\n")
    with raises_at(path, 2, "expected integer ids", repr(token)):
        read_sequences(path)


def test_sequences_a_typo_id_does_not_set_the_catalogue_size(tmp_path):
    rows = [f"{u} {' '.join(str(1 + (u * 7 + k) % 800) for k in range(5))}" for u in range(1, 301)]
    write(tmp_path / "s.txt", "\n".join(rows) + "\n")
    assert max(max(s) for s in read_sequences(tmp_path / "s.txt").values()) <= 800
    path = write(tmp_path / "s.txt", "\n".join(rows) + "\n301 1 99999 3\n")
    with raises_at(path, None, "item id 99999 is far beyond the", "distinct item ids"):
        read_sequences(path)
    path = write(tmp_path / "s.txt", "\n".join(rows) + "\n1000000000 1 2 3\n")
    with raises_at(path, None, "user id 1000000000 is far beyond"):
        read_sequences(path)


def test_sequence_folder_bounds_items_by_its_item_list(tmp_path):
    write(tmp_path / "shop.txt", "1 1 2 3\n2 2 3 5\n")
    write(tmp_path / "item_list.txt", "A\nB\nC\nD\n")
    with raises_at(tmp_path / "shop.txt", None, "item id 5 is beyond the 4 items declared"):
        SequenceFolder.load(tmp_path)
    write(tmp_path / "item_list.txt", "A\nB\nC\nD\nE\nF\n")
    assert SequenceFolder.load(tmp_path).num_items == 6


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('{"1": [1], "1": [2]}', "item ids ['1'] appear more than once"),
        ('{"1": [true], "2": [1]}', "expected a list of attribute ids >= 1, got [True]"),
        ('{"1": [1], "2": 3}', "expected a list of attribute ids >= 1, got 3"),
        ('{"-1": [1]}', "key '-1' should be an integer item id >= 1"),
        ('{"1": [99999]}', "attribute id 99999 is far beyond"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
    ids=["duplicate key", "boolean", "not a list", "negative key", "typo id", "deep nesting"],
)
def test_item_attributes_content(tmp_path, text, fragment):
    path = write(tmp_path / "a.json", text)
    with raises_at(path, None, fragment):
        read_item_attributes(path)


def test_sequence_folder_refuses_attributes_for_a_few_items(tmp_path):
    write(tmp_path / "shop.txt", "\n".join(f"{u} {u} {u + 1} {u + 2}" for u in range(1, 19)) + "\n")
    write(tmp_path / "shop_item2attributes.json", '{"1": [1, 2]}')
    with raises_at(tmp_path / "shop_item2attributes.json", None, "attributes for 1 of 20 items"):
        SequenceFolder.load(tmp_path)


def test_tuples_header_only_and_negative_users(tmp_path):
    path = write(tmp_path / "tuples_train_posi", "user,top,bottom,shoe\n")
    with raises_at(path, 2, "a header but no outfits"):
        read_tuples(path)
    path = write(tmp_path / "tuples_train_posi", "user,top,bottom,shoe\n-1,0,1,2\n")
    with raises_at(path, 2, "'user' should be a user id >= 0, got -1"):
        read_tuples(path)


def test_polyvore_huge_user_id_is_named(tmp_path):
    root = make_polyvore(tmp_path)
    write(root / "tuples_test_posi", "user,top,bottom,shoe\n0,0,1,2\n1000000000,2,2,2\n")
    write(root / "tuples_test_nega", "user,top,bottom,shoe\n0,1,1,1\n1000000000,0,0,0\n")
    with raises_at(root / "tuples_test_posi", None, "user id 1000000000 is far beyond"):
        PolyvoreU.load(root)


def test_fitb_needs_at_least_two_candidates(tmp_path):
    path = write(tmp_path / "fill_in_blank_test", "user,top,bottom,shoe\n0,0,1,2\n")
    with raises_at(path, 1, "1 candidate outfit per question; expected at least 2"):
        read_fitb(path, ITEMS)


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("{'asin': 'B1', 'title': ['Cream', '50 ml']}", "field 'title' should be a string, got list"),
        ("{[1]: 2}", "not a JSON object"),
        ("{'asin': " + "[" * 5000 + "]" * 5000 + "}", "not a JSON object"),
    ],
    ids=["title is a list", "unhashable key", "deep nesting"],
)
def test_metadata_literal_dumps_fail_clearly(tmp_path, line, fragment):
    path = write(tmp_path / "meta.json", line + "\n")
    with raises_at(path, 1, fragment):
        read_metadata(path)
