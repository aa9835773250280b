"""Does a scan look like a market? The evidence, and every warning a run printed.

``segment_scan`` finds stores only where a market could hold them. :func:`market_evidence`
sums up what the scan shows — indoor storeys (a floor slab with walls or a ceiling, not
the ground of an outdoor tile), ceilings, store-sized volumes standing on the floor — and says
plainly when it does not look like a market. :class:`WarningLog` records every warning issued
(``warnings.warn``) or logged at WARNING by geo3d during a run, so that report.json carries
what the user saw on the terminal.

Examples
--------
>>> import pandas as pd
>>> levels = pd.DataFrame({"floor": [1], "ceiling_z": [3.0]})
>>> market_evidence(levels, pd.Series(["store"] * 6), indoor=True)["looks_like_market"]
True
>>> ev = market_evidence(levels, pd.Series(["store"]), indoor=False)
>>> ev["looks_like_market"], ev["reasons"][0]
(False, 'no indoor storey: no floor slab covers the footprint (an outdoor, aerial or terrain scan)')
"""

from __future__ import annotations

import logging
import warnings
from types import TracebackType
from typing import Any

import pandas as pd

__all__ = ["MIN_MARKET_STORES", "WarningLog", "market_evidence"]

#: Fewest stores that make a market: one aisle with two stalls on each side. The smallest
#: unit geo3d addresses is an aisle (docs/addresses.md); a row of one or two "stores" in a scan is
#: more likely furniture or equipment than a market (Korea's law on traditional markets asks
#: for 50 stores in a whole market; a partial scan of one aisle must still pass).
MIN_MARKET_STORES = 4


def market_evidence(levels: pd.DataFrame, kinds: pd.Series, *, indoor: bool,
                    min_stores: int = MIN_MARKET_STORES) -> dict[str, Any]:
    """What the scan shows of a market, and the verdict.

    Parameters
    ----------
    levels : DataFrame
        The levels found (``floor``, ``ceiling_z``).
    kinds : Series of str
        Kind of every object kept (``"store"``, facility kinds).
    indoor : bool
        False when no storey was found and one level was put on the ground (outdoor tile).
    min_stores : int
        Fewest stores of a market (:data:`MIN_MARKET_STORES`).

    Returns
    -------
    dict with ``looks_like_market`` (bool), ``reasons`` (list of str: why not, empty when it
    does), ``indoor_storeys``, ``levels_with_ceiling``, ``stores``, ``facilities``.
    """
    stores = int((kinds == "store").sum())
    ceilings = int(levels["ceiling_z"].notna().sum()) if "ceiling_z" in levels else 0
    reasons = []
    if not indoor:
        reasons.append("no indoor storey: no floor slab covers the footprint (an outdoor, aerial or terrain scan)")
    if indoor and ceilings == 0:
        reasons.append("no level has a ceiling (a market hall has a roof or the slab above)")
    if stores < min_stores:
        reasons.append(f"{stores} store-sized volumes on the floor (a market shows at least {min_stores}: "
                       "one aisle with two stalls on each side)")
    return {
        "looks_like_market": not reasons,
        "reasons": reasons,
        "indoor_storeys": len(levels) if indoor else 0,
        "levels_with_ceiling": ceilings,
        "stores": stores,
        "facilities": int(len(kinds) - stores),
    }


class WarningLog:
    """Record every warning of a run: ``warnings.warn`` and geo3d log records at WARNING.

    The warnings are still shown as usual; ``messages`` holds their text in order, each once.

    Examples
    --------
    >>> with WarningLog() as log:
    ...     logging.getLogger("geo3d.test").warning("no CRS")
    >>> log.messages
    ['no CRS']
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._handler = _ListHandler(self)
        self._catch: Any = None
        self._shown: Any = None

    def add(self, message: str) -> None:
        """Record ``message`` (once)."""
        if message not in self.messages:
            self.messages.append(message)

    def __enter__(self) -> WarningLog:
        logging.getLogger("geo3d").addHandler(self._handler)
        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("always", UserWarning)  # each run records its own, even if seen before
        shown = warnings.showwarning
        self._shown = shown

        def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                 line: str | None = None) -> None:
            self.add(str(message))
            shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._catch.__exit__(kind, exc, tb)
        logging.getLogger("geo3d").removeHandler(self._handler)


class _ListHandler(logging.Handler):
    def __init__(self, owner: WarningLog) -> None:
        super().__init__(level=logging.WARNING)
        self.owner = owner

    def emit(self, record: logging.LogRecord) -> None:
        self.owner.add(record.getMessage())
