"""Icon drawing: one distinct shape and colour per state, legible counts, and committed assets
that match the drawing code."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from engine.assets import assets_dir, severity_icon_name
from engine.health import Health
from engine.vocabulary import Severity
from tray.icons import COLOURS, ICO_SIZES, asset_name, count_text, draw_icon, load_icon
from tray.make_assets import generate


def differs(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox(alpha_only=False) is not None


def coverage(img: Image.Image) -> float:
    """Share of the icon's bounding box that is opaque (a shape signature)."""
    alpha = img.getchannel("A").point(lambda a: 255 if a > 128 else 0)
    box = alpha.getbbox()
    assert box is not None
    crop = alpha.crop(box)
    return ImageStat.Stat(crop).mean[0] / 255


def test_states_differ_in_shape_not_only_colour() -> None:
    shapes = {state: coverage(draw_icon(state, 0, 64)) for state in Health}
    assert shapes[Health.ATTENTION] < 0.6  # triangle
    assert 0.7 < shapes[Health.OK] < 0.85 and 0.7 < shapes[Health.PAUSED] < 0.85  # circles
    assert shapes[Health.DEGRADED] > 0.9  # square
    # OK and PAUSED share the circle: their glyphs differ even in greyscale
    ok, paused = (draw_icon(s, 0, 64).convert("L") for s in (Health.OK, Health.PAUSED))
    assert ImageStat.Stat(ImageChops.difference(ok, paused)).mean[0] > 10
    # STARTING is a hollow ring: its centre ring area is transparent
    starting = draw_icon(Health.STARTING, 0, 64)
    alpha = starting.getchannel("A")
    assert alpha.getpixel((32, 20)) == 0 and alpha.getpixel((32, 3)) == 255


@pytest.mark.parametrize("size", [16, 22, 32, 64, 256])
def test_every_state_draws_at_every_size(size: int) -> None:
    for state in Health:
        img = draw_icon(state, 5, size)
        assert img.size == (size, size) and img.mode == "RGBA"
        colours = img.convert("RGB").getcolors(size * size)
        assert colours is not None
        near = dict.fromkeys(Health, 0)  # pixels close to each palette colour
        for count, rgb in colours:
            for other, colour in COLOURS.items():
                if sum(abs(a - b) for a, b in zip(rgb, colour, strict=True)) < 40:
                    near[other] += count
        assert max(near, key=lambda h: near[h]) is state, (state, near)


def test_attention_count_is_drawn_when_legible() -> None:
    assert [count_text(n) for n in (0, 1, 42, 100)] == ["!", "1", "42", "99+"]
    three, seven, bang = (draw_icon(Health.ATTENTION, n, 64) for n in (3, 7, 0))
    assert differs(three, seven) and differs(bang, three)
    # 99+ does not fit a 16 px triangle: falls back to the "!" glyph
    assert not differs(draw_icon(Health.ATTENTION, 250, 16), draw_icon(Health.ATTENTION, 0, 16))
    assert differs(draw_icon(Health.ATTENTION, 250, 64), draw_icon(Health.ATTENTION, 0, 64))


def test_committed_assets_match_the_drawing_code(tmp_path: Path) -> None:
    committed = assets_dir()
    generate(tmp_path)
    for state in Health:
        ours = Image.open(committed / asset_name(state)).convert("RGBA")
        fresh = Image.open(tmp_path / asset_name(state)).convert("RGBA")
        assert ours.size == (256, 256)
        diff = ImageStat.Stat(ImageChops.difference(ours, fresh)).mean
        assert max(diff) < 2, f"{asset_name(state)} is stale: run python -m tray.make_assets"
    for severity in Severity:
        name = severity_icon_name(severity)
        diff = ImageStat.Stat(ImageChops.difference(Image.open(committed / name).convert("RGBA"),
                                                    Image.open(tmp_path / name).convert("RGBA"))).mean
        assert max(diff) < 2, f"{name} is stale: run python -m tray.make_assets"
    with Image.open(committed / "watchkeeper.ico") as ico:
        assert {(s, s) for s in ICO_SIZES} <= set(ico.info["sizes"])


def test_load_icon_prefers_masters_and_draws_counts(tmp_path: Path) -> None:
    master = Image.new("RGBA", (256, 256), (1, 2, 3, 255))
    master.save(tmp_path / asset_name(Health.OK))
    assert load_icon(Health.OK, 0, 32, assets=tmp_path).getpixel((5, 5)) == (1, 2, 3, 255)
    drawn = load_icon(Health.DEGRADED, 0, 32, assets=tmp_path)  # no master there: drawn
    assert not differs(drawn, draw_icon(Health.DEGRADED, 0, 32))
    counted = load_icon(Health.ATTENTION, 4, 64, assets=assets_dir())
    assert not differs(counted, draw_icon(Health.ATTENTION, 4, 64))
    assert differs(counted, load_icon(Health.ATTENTION, 0, 64, assets=assets_dir()))
