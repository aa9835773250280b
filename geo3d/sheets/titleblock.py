"""Title block (표제란) and sheet frame, drawn in paper millimetres.

The sheet's *paper axes* spans the whole figure with data units of millimetres (origin lower
left), so frames, title blocks and scale bars are placed like on a drawing board.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DISCLAIMER",
    "PAPER_MM",
    "TitleBlock",
    "draw_frame",
    "draw_title_block",
    "paper_axes",
    "title_block_layout",
    "update_title_block",
]

#: Paper sizes in millimetres, landscape (width, height).
PAPER_MM: dict[str, tuple[float, float]] = {
    "A4": (297.0, 210.0), "A3": (420.0, 297.0), "A2": (594.0, 420.0), "A1": (841.0, 594.0),
}

#: Accuracy disclaimer printed in the title block.
DISCLAIMER = ("본 도면의 지하시설물 위치·심도는 관리기관 자료를 바탕으로 한 것으로 실제와 다를 수 "
              "있음. 굴착 전 시험굴착 및 관리기관 입회로 확인할 것. Positions and depths are "
              "from agency records and may be inaccurate; verify by trial pits before digging.")


def paper_axes(fig: Any, size_mm: tuple[float, float]) -> Any:
    """An axes over the whole figure with millimetre data units (no ticks, no frame)."""
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0), zorder=-10)
    ax.set_xlim(0, size_mm[0])
    ax.set_ylim(0, size_mm[1])
    ax.set_axis_off()
    ax.set_gid("geo3d-paper")
    return ax


def draw_frame(paper: Any, size_mm: tuple[float, float], *, margin: float = 10.0) -> None:
    """The drawing border: a thin outer and a thick inner frame."""
    from matplotlib.patches import Rectangle

    w, h = size_mm
    paper.add_patch(Rectangle((margin, margin), w - 2 * margin, h - 2 * margin, fill=False,
                              lw=1.2, ec="black"))
    paper.add_patch(Rectangle((margin / 2, margin / 2), w - margin, h - margin, fill=False,
                              lw=0.3, ec="black"))


@dataclass
class TitleBlock:
    """The artists of a drawn title block (:func:`draw_title_block`).

    Attributes
    ----------
    artists : list
        Everything drawn (remove them to take the block off).
    values : list of matplotlib.text.Text
        One value text per field row.
    title, sheet : matplotlib.text.Text
        The drawing title and the ``n / N`` sheet number.
    layout : tuple
        What the positions depend on (rectangle, labels, lines per value, font size,
        disclaimer): a block with the same layout takes new values with ``set_text``.
    """

    artists: list[Any]
    values: list[Any]
    title: Any
    sheet: Any
    layout: tuple[Any, ...]


def title_block_layout(rect: tuple[float, float, float, float],
                       rows: Sequence[tuple[str, str]], *, disclaimer: str = DISCLAIMER,
                       fontsize: float = 6.5) -> tuple[Any, ...]:
    """The layout key of a title block (see :class:`TitleBlock`)."""
    return (tuple(rect), tuple(label for label, _ in rows),
            tuple(max(1, v.count("\n") + 1) for _, v in rows), disclaimer, fontsize)


def draw_title_block(
    paper: Any,
    rect: tuple[float, float, float, float],
    rows: Sequence[tuple[str, str]],
    *,
    title: str,
    sheet: tuple[int, int] = (1, 1),
    disclaimer: str = DISCLAIMER,
    fontsize: float = 6.5,
) -> TitleBlock:
    """Draw a title block in ``rect = (x, y, w, h)`` mm.

    Parameters
    ----------
    paper : Axes
        From :func:`paper_axes`.
    rect : tuple
        Position and size in mm.
    rows : sequence of (label, value)
        Field rows from the top (values may hold one line break).
    title : str
        Drawing title, printed large at the bottom with the sheet number.
    sheet : (n, N)
        Sheet number and count.

    Returns
    -------
    TitleBlock
        The artists, so that the next page of an atlas can update the values in place.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Rectangle

    x, y, w, h = rect
    box = Rectangle((x, y), w, h, fill=True, fc="white", ec="black", lw=1.0, zorder=2)
    paper.add_artist(box)   # the paper axes has fixed limits: no data-limit update needed
    artists: list[Any] = [box]
    values: list[Any] = []
    label_w = 24.0
    bottom_h = 17.0
    disc_h = 17.0
    # a field gets room for its lines (at least one)
    nlines = [max(1, v.count("\n") + 1) for _, v in rows]
    unit = (h - bottom_h - disc_h) / max(sum(max(n, 2) for n in nlines), 1)
    top = y + h
    y0 = top
    segments = []
    for (label, value), n in zip(rows, nlines, strict=True):
        field_h = unit * max(n, 2)
        y0 -= field_h
        segments.append([(x, y0), (x + w, y0)])
        artists.append(paper.text(x + 1.5, y0 + field_h / 2, label, fontsize=fontsize - 0.5,
                                  va="center", ha="left", color="#333333", zorder=4))
        values.append(paper.text(x + label_w + 1.5, y0 + field_h / 2, value, fontsize=fontsize,
                                 va="center", ha="left", zorder=4, linespacing=1.1))
    artists.extend(values)
    segments.append([(x + label_w, y0), (x + label_w, top)])
    # disclaimer
    yd = y + bottom_h
    segments.append([(x, yd), (x + w, yd)])
    artists.append(paper.text(x + 1.5, yd + disc_h - 1.5, _wrap(disclaimer, int(w / (fontsize * 0.27))),
                              fontsize=fontsize - 1.5, va="top", ha="left", color="#444444",
                              zorder=4, linespacing=1.15))
    # title and sheet number
    segments.append([(x + w - 28.0, y), (x + w - 28.0, y + bottom_h)])
    lines = LineCollection(segments, colors="black", linewidths=0.4, zorder=3,
                           capstyle="projecting", joinstyle="round")
    paper.add_collection(lines, autolim=False)
    artists.append(lines)
    title_t = paper.text(x + 2.0, y + bottom_h / 2, title, fontsize=fontsize + 4, va="center",
                         ha="left", weight="bold", zorder=4)
    artists.append(title_t)
    artists.append(paper.text(x + w - 14.0, y + bottom_h / 2 + 2.5, "도면번호 Sheet",
                              fontsize=fontsize - 1.5, va="center", ha="center", zorder=4))
    sheet_t = paper.text(x + w - 14.0, y + bottom_h / 2 - 2.5, f"{sheet[0]} / {sheet[1]}",
                         fontsize=fontsize + 2, va="center", ha="center", weight="bold", zorder=4,
                         gid="geo3d-sheet-number")
    artists.append(sheet_t)
    return TitleBlock(artists, values, title_t, sheet_t,
                      title_block_layout(rect, rows, disclaimer=disclaimer, fontsize=fontsize))


def update_title_block(block: TitleBlock, rows: Sequence[tuple[str, str]], *, title: str,
                       sheet: tuple[int, int]) -> None:
    """New values in a drawn block of the same layout (:func:`title_block_layout`)."""
    for text, (_, value) in zip(block.values, rows, strict=True):
        if text.get_text() != value:
            text.set_text(value)
    if block.title.get_text() != title:
        block.title.set_text(title)
    block.sheet.set_text(f"{sheet[0]} / {sheet[1]}")


def wrap_text(text: str, width: int) -> str:
    """Wrap text at ``width`` characters, counting a Hangul syllable as two.

    Examples
    --------
    >>> print(wrap_text("지하 시설물 안전 관리", 10))
    지하 시설물
    안전 관리
    """
    lines: list[str] = []
    line = ""
    count = 0
    for word in text.split(" "):
        wlen = sum(2 if ord(ch) > 0x1100 else 1 for ch in word) + 1
        if count + wlen > width and line:
            lines.append(line.rstrip())
            line, count = "", 0
        line += word + " "
        count += wlen
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


_wrap = wrap_text  # the former private name
