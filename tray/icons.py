"""Tray icon drawing: a Health state (and an alert count) becomes a Pillow image.

Pure functions, no pystray. Every state differs in *shape and glyph* as well as colour, so the
icon reads the same for colour-blind users and in a greyscale screenshot:

====================  ======================  ==================================
state                 shape                   glyph
====================  ======================  ==================================
OK                    filled circle           check mark
ATTENTION             warning triangle        open-alert count (``!`` if illegible)
DEGRADED              rounded square          ``!``
PAUSED                filled circle           two vertical bars
STARTING              hollow ring             centre dot
====================  ======================  ==================================

Colours come from the Okabe-Ito colour-blind-safe palette. Shapes are drawn at 4x and scaled
down for anti-aliasing. ``load_icon`` prefers the generated masters in ``assets/`` (what the
one-file exe bundles) and draws anything else (e.g. a count) on the fly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from engine.health import Health

SUPERSAMPLE = 4
DEFAULT_SIZE = 64
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
MIN_COUNT_PIXELS = 7  # a count glyph smaller than this (in final pixels) is replaced by "!"

#: Fill colour per state (Okabe-Ito derived).
COLOURS: dict[Health, tuple[int, int, int]] = {
    Health.OK: (0, 158, 115),
    Health.ATTENTION: (240, 165, 0),
    Health.DEGRADED: (204, 33, 48),
    Health.PAUSED: (0, 114, 178),
    Health.STARTING: (128, 128, 128),
}
OUTLINE = (25, 25, 25, 255)
WHITE = (255, 255, 255, 255)
DARK = (20, 20, 20, 255)


def asset_name(state: Health) -> str:
    """File name of the generated master for ``state`` (in assets/)."""
    return f"watchkeeper-{state.value}.png"


def count_text(count: int) -> str:
    """What the ATTENTION triangle shows for ``count`` open alerts."""
    if count <= 0:
        return "!"
    return str(count) if count <= 99 else "99+"


def draw_icon(state: Health, count: int = 0, size: int = DEFAULT_SIZE) -> Image.Image:
    """Draw the icon for ``state`` as a ``size`` x ``size`` RGBA image.

    ``count`` is used by ATTENTION only (0 draws ``!``). Deterministic for a given Pillow version.
    """
    big = size * SUPERSAMPLE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    fill = (*COLOURS[state], 255)
    edge = max(1, round(big * 0.035))
    painter = _PAINTERS[state]
    painter(draw, big, fill, edge, count, size)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def _u(big: int, *coords: float) -> list[float]:
    """Unit coordinates (0..1) to canvas pixels."""
    return [c * big for c in coords]


def _paint_ok(draw: ImageDraw.ImageDraw, big: int, fill: tuple[int, ...], edge: int, count: int, size: int) -> None:
    draw.ellipse(_u(big, 0.04, 0.04, 0.96, 0.96), fill=fill, outline=OUTLINE, width=edge)
    points = [tuple(_u(big, x, y)) for x, y in ((0.27, 0.52), (0.44, 0.69), (0.75, 0.33))]
    draw.line(points, fill=WHITE, width=round(big * 0.13), joint="curve")
    r = big * 0.065
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=WHITE)


def _paint_attention(draw: ImageDraw.ImageDraw, big: int, fill: tuple[int, ...], edge: int, count: int,
                     size: int) -> None:
    triangle = [tuple(_u(big, x, y)) for x, y in ((0.5, 0.04), (0.98, 0.93), (0.02, 0.93))]
    draw.polygon(triangle, fill=fill, outline=OUTLINE, width=edge)
    text = count_text(count)
    font_px = _fit_font_px(text, max_w=big * (0.50 if len(text) < 3 else 0.56), max_h=big * 0.40)
    if text == "!" or font_px / SUPERSAMPLE < MIN_COUNT_PIXELS or (len(text) > 2 and size < 32):
        _paint_bang(draw, big, DARK, top=0.34, bottom=0.70, dot=0.81, half_w=0.06)
        return
    font = _font(font_px)
    stroke = max(1, font_px // 14)
    draw.text((big * 0.5, big * 0.64), text, font=font, fill=DARK, anchor="mm", stroke_width=stroke, stroke_fill=DARK)


def _paint_degraded(draw: ImageDraw.ImageDraw, big: int, fill: tuple[int, ...], edge: int, count: int,
                    size: int) -> None:
    draw.rounded_rectangle(_u(big, 0.06, 0.06, 0.94, 0.94), radius=big * 0.14, fill=fill, outline=OUTLINE,
                           width=edge)
    _paint_bang(draw, big, WHITE, top=0.18, bottom=0.60, dot=0.76, half_w=0.075)


def _paint_paused(draw: ImageDraw.ImageDraw, big: int, fill: tuple[int, ...], edge: int, count: int,
                  size: int) -> None:
    draw.ellipse(_u(big, 0.04, 0.04, 0.96, 0.96), fill=fill, outline=OUTLINE, width=edge)
    for left in (0.32, 0.56):
        draw.rounded_rectangle(_u(big, left, 0.27, left + 0.12, 0.73), radius=big * 0.03, fill=WHITE)


def _paint_starting(draw: ImageDraw.ImageDraw, big: int, fill: tuple[int, ...], edge: int, count: int,
                    size: int) -> None:
    ring = round(big * 0.16)
    draw.ellipse(_u(big, 0.04, 0.04, 0.96, 0.96), fill=OUTLINE)
    draw.ellipse(_u(big, 0.04, 0.04, 0.96, 0.96), outline=fill, width=ring)
    inner = 0.04 + ring / big
    draw.ellipse(_u(big, inner, inner, 1 - inner, 1 - inner), fill=(0, 0, 0, 0))
    draw.ellipse(_u(big, 0.39, 0.39, 0.61, 0.61), fill=fill, outline=OUTLINE, width=edge)


def _paint_bang(draw: ImageDraw.ImageDraw, big: int, colour: tuple[int, ...], *, top: float, bottom: float,
                dot: float, half_w: float) -> None:
    """An exclamation mark drawn from shapes (no font: legible at 16 px, identical everywhere)."""
    draw.rounded_rectangle(_u(big, 0.5 - half_w, top, 0.5 + half_w, bottom), radius=big * half_w * 0.8,
                           fill=colour)
    r = half_w * 1.05
    draw.ellipse(_u(big, 0.5 - r, dot - r, 0.5 + r, dot + r), fill=colour)


_PAINTERS = {
    Health.OK: _paint_ok,
    Health.ATTENTION: _paint_attention,
    Health.DEGRADED: _paint_degraded,
    Health.PAUSED: _paint_paused,
    Health.STARTING: _paint_starting,
}


def _paint_info(draw: ImageDraw.ImageDraw, big: int, fill: tuple[int, ...], edge: int) -> None:
    """A filled circle with an ``i`` (an upside-down exclamation mark, drawn from shapes)."""
    draw.ellipse(_u(big, 0.04, 0.04, 0.96, 0.96), fill=fill, outline=OUTLINE, width=edge)
    half_w = 0.075
    draw.rounded_rectangle(_u(big, 0.5 - half_w, 0.42, 0.5 + half_w, 0.80), radius=big * half_w * 0.8, fill=WHITE)
    r = half_w * 1.05
    draw.ellipse(_u(big, 0.5 - r, 0.26 - r, 0.5 + r, 0.26 + r), fill=WHITE)


def draw_severity_icon(severity: str, size: int = DEFAULT_SIZE) -> Image.Image:
    """The toast icon for a notification's severity: critical is the DEGRADED square with ``!``,
    warning the ATTENTION triangle with ``!``, info a blue circle with ``i`` (never the green OK)."""
    if severity == "critical":
        return draw_icon(Health.DEGRADED, 0, size)
    if severity == "warning":
        return draw_icon(Health.ATTENTION, 0, size)
    big = size * SUPERSAMPLE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    _paint_info(ImageDraw.Draw(img), big, (*COLOURS[Health.PAUSED], 255), max(1, round(big * 0.035)))
    return img.resize((size, size), Image.Resampling.LANCZOS)


@lru_cache(maxsize=64)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=px)


def _fit_font_px(text: str, *, max_w: float, max_h: float) -> int:
    """The largest font size whose rendering of ``text`` fits the box."""
    px = int(max_h * 1.4)
    while px > 4:
        left, top, right, bottom = _font(px).getbbox(text, anchor="mm")
        if right - left <= max_w and bottom - top <= max_h:
            return px
        px -= max(1, px // 16)
    return px


def load_icon(state: Health, count: int = 0, size: int = DEFAULT_SIZE,
              assets: Path | None = None) -> Image.Image:
    """The tray image: the generated master from ``assets`` when one fits, else drawn now.

    ATTENTION with a count is always drawn (the masters carry no count).
    """
    if not (state is Health.ATTENTION and count > 0):
        if assets is None:
            from engine.assets import assets_dir

            assets = assets_dir()
        path = assets / asset_name(state)
        try:
            with Image.open(path) as master:
                master.load()
                image = master.convert("RGBA")
            if image.size != (size, size):
                image = image.resize((size, size), Image.Resampling.LANCZOS)
            return image
        except OSError:
            pass
    return draw_icon(state, count, size)
