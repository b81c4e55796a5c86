"""Server-rendered SVG charts for the public pages: bars, a line over the day, a tile map of regions.

No JavaScript: each chart is inline SVG with a ``<title>`` and ``<desc>`` (``role="img"``), and the page
shows the same numbers in a table beside it. Labels are given already formatted for the page's locale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["PALETTE", "Bar", "Tile", "bar_chart", "line_chart", "tile_map"]

PALETTE = ("#1f5fa8", "#b5431f", "#2e7d32", "#6a3d9a", "#8c6d1f", "#00838f", "#ad1457", "#555555")
"""Option colours, in the manifest's order (dark enough for white text and 3:1 against white)."""


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its share (0..1) of the longest possible bar, and the formatted figure."""

    label: str
    share: float
    figure: str
    colour: str = PALETTE[0]


@dataclass(frozen=True)
class Tile:
    """One region's tile: its short label, the text of its tooltip, and its fill colour."""

    label: str
    text: str
    colour: str
    opacity: float


def _head(width: int, height: int, title: str, desc: str, ident: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )


def bar_chart(bars: Sequence[Bar], title: str, desc: str, ident: str) -> Markup:
    """Horizontal bars, one row per option: label above, bar and figure below (fits 360 px)."""
    row, width = 40, 320
    parts = [_head(width, row * len(bars) + 4, title, desc, ident)]
    for i, b in enumerate(bars):
        y = i * row
        w = max(0.0, min(1.0, b.share)) * (width - 110)
        parts.append(Markup(
            f'<text x="0" y="{y + 13}" class="lbl">{escape(b.label)}</text>'
            f'<rect x="0" y="{y + 18}" width="{w:.1f}" height="16" fill="{b.colour}"/>'
            f'<text x="{w + 6:.1f}" y="{y + 31}" class="fig">{escape(b.figure)}</text>'
        ))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def line_chart(points: Sequence[tuple[str, float]], figures: Sequence[str], title: str, desc: str,
               ident: str) -> Markup:
    """Turnout through the day: one point per report time (label, share 0..1), joined by a line."""
    width, height, left, bottom = 320, 180, 34, 24
    plot_w, plot_h = width - left - 10, height - bottom - 20
    parts = [_head(width, height, title, desc, ident)]
    for pct in (0, 25, 50, 75, 100):
        y = 10 + plot_h * (1 - pct / 100)
        parts.append(Markup(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" class="axis" text-anchor="end">{pct}</text>'
        ))
    n = len(points)
    coords = []
    for i, (label, share) in enumerate(points):
        x = left + (plot_w * (i + 0.5) / n if n else 0)
        y = 10 + plot_h * (1 - max(0.0, min(1.0, share)))
        coords.append((x, y))
        parts.append(Markup(
            f'<text x="{x:.1f}" y="{height - 6}" class="axis" text-anchor="middle">{escape(label)}</text>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{PALETTE[0]}"/>'
            f'<text x="{x:.1f}" y="{y - 8:.1f}" class="fig" text-anchor="middle">{escape(figures[i])}</text>'
        ))
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(
            Markup(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def tile_map(tiles: Sequence[Tile], title: str, desc: str, ident: str, columns: int = 4) -> Markup:
    """A grid of region tiles (no boundaries exist in the data): the winner's colour, shade by share."""
    size, gap = 76, 4
    cols = max(1, min(columns, len(tiles)))
    rows = (len(tiles) + cols - 1) // cols
    width, height = cols * (size + gap), max(1, rows) * (size + gap)
    head = _head(width, height, title, desc, ident)
    parts = [Markup(str(head).replace('class="chart"', f'class="chart" style="max-width: {width * 2}px"', 1))]
    for i, t in enumerate(tiles):
        x, y = (i % cols) * (size + gap), (i // cols) * (size + gap)
        parts.append(Markup(
            f'<g><title>{escape(t.text)}</title>'
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="4" fill="{t.colour}" '
            f'fill-opacity="{t.opacity:.2f}"/>'
            f'<rect x="{x + 4}" y="{y + size - 24}" width="{size - 8}" height="20" rx="2" fill="#fff"/>'
            f'<text x="{x + size / 2}" y="{y + size - 9}" class="tile" text-anchor="middle">'
            f'{escape(t.label)}</text></g>'
        ))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
