"""Korean turn-by-turn steps and walking times of a route on the navigation network.

Examples
--------
>>> from geo3d.indoor.steps import josa
>>> josa("경동시장1통로", "을를"), josa("계단", "으로"), josa("승강기", "으로")
('를', '으로', '로')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..address.format import floor_label

__all__ = ["LIFT_WAIT_S", "SPEEDS_M_S", "josa", "route_steps", "walking_time"]

#: Walking speed per edge kind (m/s, along the 3D length): level walking 1.2 (wheelchair 0.9),
#: stairs and escalators 0.5, ramps 0.9, lifts 1.0 plus :data:`LIFT_WAIT_S`.
SPEEDS_M_S: dict[str, float] = {"flat": 1.2, "wheelchair": 0.9, "stairs": 0.5, "escalator": 0.5,
                                "ramp": 0.9, "lift": 1.0}
#: Waiting time for a lift (s).
LIFT_WAIT_S = 30.0
_VERTICAL = {"stairs": "계단", "ramp": "경사로", "lift": "승강기", "escalator": "에스컬레이터"}


def josa(word: str, pair: str) -> str:
    """The Korean particle fitting ``word``: ``"을를"``, ``"이가"``, ``"은는"``, or ``"으로"``."""
    c = word[-1] if word else "가"
    code = ord(c) - 0xAC00
    final = code % 28 if 0 <= code < 11172 else (0 if not c.isdigit() else (1 if c in "136780" else 0))
    if pair == "으로":
        return "로" if final in (0, 8) else "으로"  # ㄹ받침 takes 로
    return pair[0] if final else pair[1]


def walking_time(kind: np.ndarray, length: np.ndarray, *, agent: str = "pedestrian") -> float:
    """Seconds to walk edges of these kinds and lengths at :data:`SPEEDS_M_S` (lifts add
    :data:`LIFT_WAIT_S` each)."""
    length = np.asarray(length, float)
    flat = SPEEDS_M_S["wheelchair" if agent == "wheelchair" else "flat"]
    speed = np.array([SPEEDS_M_S.get(str(k), flat) for k in kind]) if len(kind) else np.zeros(0)
    return float((length / speed).sum() + LIFT_WAIT_S * (kind == "lift").sum())


def _legs(net: Any, path: list[int], eids: list[int]) -> list[dict[str, Any]]:
    """Consecutive edges grouped into legs: one per aisle walked, per vertical link, per other run."""
    a_ = net.arrays
    kinds, aisles, lengths, us, floors = a_["e_kind"], a_["e_aisle"], a_["e_length_m"], a_["e_u"], a_["e_floor"]
    legs: list[dict[str, Any]] = []
    for k, (a, eid) in enumerate(zip(path[:-1], eids, strict=True)):
        kind = str(kinds[eid])
        aisle = aisles[eid] if kind == "aisle" else None
        key = ("aisle", aisle) if kind == "aisle" else (("v", kind) if kind in _VERTICAL else ("x",))
        c = a_["e_coords"][eid][:, :2]
        if int(us[eid]) != a:
            c = c[::-1]
        if legs and legs[-1]["key"] == key:
            leg = legs[-1]
            leg["length"] += float(lengths[eid])
            leg["end"] = c
        else:
            legs.append({"key": key, "kind": kind, "aisle": aisle, "length": float(lengths[eid]),
                         "start": c, "end": c, "floor": int(floors[eid])})
        if kind in _VERTICAL:
            legs[-1]["to_floor"] = int(a_["n_floor"][path[k + 1]])
    # short links in the middle (a snapped junction, a stair landing) join a neighbouring walk
    out: list[dict[str, Any]] = []
    carry = 0.0
    for i, leg in enumerate(legs):
        if leg["key"] == ("x",) and 0 < i < len(legs) - 1:
            if out and out[-1]["key"][0] == "aisle":
                out[-1]["length"] += leg["length"]
            else:
                carry += leg["length"]
            continue
        leg["length"] += carry
        carry = 0.0
        out.append(leg)
    return out


def _turn(prev: np.ndarray, nxt: np.ndarray) -> str:
    """좌회전 / 우회전 / 직진 between the last direction of one leg and the first of the next."""
    a = prev[-1] - prev[-2] if len(prev) > 1 else None
    b = nxt[1] - nxt[0] if len(nxt) > 1 else None
    if a is None or b is None or not np.any(a) or not np.any(b):
        return ""
    cross = a[0] * b[1] - a[1] * b[0]
    ang = np.degrees(np.arctan2(cross, float(a @ b)))
    if abs(ang) < 30:
        return "직진하여 "
    return "왼쪽으로 돌아 " if ang > 0 else "오른쪽으로 돌아 "


def route_steps(paths: Any, path: list[int], eids: list[int], *, from_address: str | None,
                to_address: str | None) -> list[dict[str, Any]]:
    """Korean steps naming aisles and floors, e.g. ``경동시장1통로를 따라 32 m``, ``계단으로 2층``.

    Each step is ``{"text", "kind", "aisle", "floor", "length_m"}``.
    """
    net = paths.network
    f0 = int(net.arrays["n_floor"][path[0]])
    steps = [{"text": f"출발: {from_address or '현재 위치'} ({floor_label(f0)})", "kind": "start", "aisle": None,
              "floor": f0, "length_m": 0.0}]
    legs = _legs(net, path, eids)
    prev_end = None
    for i, leg in enumerate(legs):
        d = round(leg["length"])
        if d == 0 and leg["kind"] not in _VERTICAL:
            continue
        if leg["kind"] in _VERTICAL:
            word = _VERTICAL[leg["kind"]]
            text = f"{word}{josa(word, '으로')} {floor_label(leg['to_floor'])} ({d} m)"
        elif leg["kind"] == "aisle":
            turn = _turn(prev_end, leg["start"]) if prev_end is not None else ""
            text = f"{turn}{leg['aisle']}{josa(str(leg['aisle']), '을를')} 따라 {d} m"
        elif i == 0:
            text = f"통로로 나와 {d} m"
        else:
            text = f"목적지 쪽으로 {d} m"
        steps.append({"text": text, "kind": leg["kind"], "aisle": leg["aisle"],
                      "floor": leg.get("to_floor", leg["floor"]), "length_m": round(leg["length"], 1)})
        prev_end = leg["end"]
    f1 = int(net.arrays["n_floor"][path[-1]])
    steps.append({"text": f"도착: {to_address or '목적지'} ({floor_label(f1)})", "kind": "arrive", "aisle": None,
                  "floor": f1, "length_m": 0.0})
    return steps
