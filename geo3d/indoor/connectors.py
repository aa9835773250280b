"""Stairs, ramps, lifts and exits given in MARKET.toml (``[[connectors]]``, ``[[exits]]``).

They are not detected in the point cloud; MARKET.toml gives them::

    [[connectors]]
    kind = "stairs"            # stairs | ramp | lift | escalator
    floors = [1, 2]            # the levels it links (consecutive pairs are joined)
    xy = [203490.0, 553350.0]  # its position (same on every floor), or
    # line = [[x0, y0], [x1, y1]]  # foot on the lowest floor -> head on the next
    name = "중앙계단"           # optional

    [[exits]]                  # optional exits beside the detected ones (exit signs)
    floor = 1
    xy = [203478.3, 553312.2]

Examples
--------
>>> from geo3d.address import market_from_dict
>>> m = market_from_dict({"name": "경동시장", "sido": "서울특별시", "sigungu": "동대문구",
...                       "parent_road": "고산자로36길", "parent_number": "3",
...                       "connectors": [{"kind": "stairs", "floors": [1, 2], "xy": [0.0, 0.0]}]})
>>> [c["kind"] for c in connectors_from_market(m)]
['stairs']
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import InputError

__all__ = ["CONNECTOR_KINDS", "connectors_from_market", "exits_from_market"]

#: Vertical links and how their walking length follows from the storey height (rise, m):
#: stairs at 35° (run = rise / tan 35°), ramps at 1:12, lifts and escalators by the rise.
CONNECTOR_KINDS: dict[str, float] = {"stairs": 1 / math.tan(math.radians(35.0)), "ramp": 12.0,
                                     "lift": 0.0, "escalator": 1 / math.tan(math.radians(30.0))}

def connectors_from_market(market: Any) -> list[dict[str, Any]]:
    """The ``[[connectors]]`` of a MARKET.toml (read from :attr:`Market.extra`), validated.

    Raises :class:`~geo3d.errors.InputError` listing every malformed entry.
    """
    raw = (getattr(market, "extra", None) or {}).get("connectors", [])
    out, problems = [], []
    for i, c in enumerate(raw if isinstance(raw, list) else [raw], start=1):
        where = f"MARKET.toml [[connectors]] #{i}"
        if not isinstance(c, dict) or c.get("kind") not in CONNECTOR_KINDS:
            problems.append(f"{where}: 'kind' must be one of {', '.join(CONNECTOR_KINDS)}")
            continue
        fl = c.get("floors")
        if not isinstance(fl, list) or len(fl) < 2 or not all(isinstance(f, int) and f != 0 for f in fl):
            problems.append(f"{where}: 'floors' must list at least two non-zero floor numbers, e.g. [1, 2]")
        line, xy = c.get("line"), c.get("xy")
        if line is None and not (isinstance(xy, list) and len(xy) == 2):
            problems.append(f"{where}: give 'xy' = [x, y] or 'line' = [[x0, y0], [x1, y1]]")
        out.append(c)
    if problems:
        msg = "; ".join(problems)
        raise InputError(msg)
    return out


def exits_from_market(market: Any) -> list[tuple[int, float, float]]:
    """Exits as (floor, x, y): the ``[[exits]]`` of MARKET.toml and its principal entrance."""
    out = []
    for e in (getattr(market, "extra", None) or {}).get("exits", []):
        if not isinstance(e, dict) or not isinstance(e.get("floor"), int) or len(e.get("xy", [])) != 2:
            msg = "MARKET.toml [[exits]] needs floor = N and xy = [x, y]"
            raise InputError(msg)
        out.append((int(e["floor"]), float(e["xy"][0]), float(e["xy"][1])))
    pe = getattr(market, "principal_entrance", None)
    if pe is not None:
        out.append((int(getattr(market, "entrance_floor", None) or 1), float(pe[0]), float(pe[1])))
    return out
