"""Pictures are checked at load: garbage, truncation, odd bit depths and odd sizes are named."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from minirec.data.errors import DataFormatError
from minirec.data.pictures import check_same_size, read_picture


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_rgb_grey_and_palette_pictures_read_as_rgb(tmp_path):
    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    (tmp_path / "rgb.png").write_bytes(png_bytes(Image.fromarray(pixels)))
    (tmp_path / "grey.png").write_bytes(png_bytes(Image.fromarray(pixels[:, :, 0])))
    assert np.array_equal(read_picture(tmp_path / "rgb.png"), pixels)
    grey = read_picture(tmp_path / "grey.png")
    assert grey.shape == (4, 5, 3) and np.array_equal(grey[:, :, 2], pixels[:, :, 0])


def test_sixteen_bit_grey_is_scaled_not_read_as_white(tmp_path):
    deep = np.array([[0, 256 * 100, 65535]], dtype=np.uint16)
    (tmp_path / "deep.png").write_bytes(png_bytes(Image.fromarray(deep)))
    assert read_picture(tmp_path / "deep.png")[0, :, 0].tolist() == [0, 100, 255]


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"this is not a picture at all", "is not a picture PIL can read"),
        (None, "is truncated or corrupt"),
    ],
    ids=["garbage", "truncated"],
)
def test_broken_pictures_are_named(tmp_path, content, fragment):
    if content is None:
        noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        content = png_bytes(Image.fromarray(noise))[:-200]
    path = tmp_path / "item.png"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=f"item.png: {fragment}"):
        read_picture(path)


def test_float_pixels_are_refused(tmp_path):
    path = tmp_path / "float.tiff"
    Image.fromarray(np.zeros((2, 2), np.float32)).save(path)
    with pytest.raises(DataFormatError, match="float.tiff: has 'F' pixels"):
        read_picture(path)


def test_a_picture_of_another_size_is_named(tmp_path):
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    with pytest.raises(DataFormatError, match=r"b.png: is 3x2 pixels; expected 4x4 like a.png"):
        check_same_size(paths, [np.zeros((4, 4, 3)), np.zeros((2, 3, 3))])
