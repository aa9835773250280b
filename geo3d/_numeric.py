"""Numbers out of table columns: one helper for every module (missing and non-numeric → NaN).

Pandas nullable columns (``Float64``, ``Int64``), object columns of mixed strings and numbers,
and absent columns all become plain ``float64`` arrays with NaN where nothing usable is given.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["float_column", "float_series", "float_values"]


def float_column(frame: pd.DataFrame, col: str) -> NDArray[np.float64]:
    """Column ``col`` of ``frame`` as float64, NaN where missing or not a number.

    An absent column gives all NaN (one per row).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"d": ["300", None, "x"]})
    >>> float_column(df, "d").tolist(), float_column(df, "width").tolist()
    ([300.0, nan, nan], [nan, nan, nan])
    """
    if col not in frame:
        return np.full(len(frame), np.nan)
    return float_series(frame[col])


def float_series(values: pd.Series) -> NDArray[np.float64]:
    """A Series as float64, NaN where missing or not a number (strings are parsed).

    Examples
    --------
    >>> import pandas as pd
    >>> float_series(pd.Series(["2.5", None, "n/a", 4], dtype=object)).tolist()
    [2.5, nan, nan, 4.0]
    """
    return np.asarray(pd.to_numeric(values, errors="coerce").astype("Float64").to_numpy(
        dtype=np.float64, na_value=np.nan), dtype=np.float64)


def float_values(values: Any, index: pd.Index) -> NDArray[np.float64]:
    """A Series aligned to ``index``, or a scalar / array broadcast to its length, as float64.

    Examples
    --------
    >>> import pandas as pd
    >>> idx = pd.RangeIndex(3)
    >>> float_values(pd.Series([1.0, None], dtype="Float64"), idx).tolist()
    [1.0, nan, nan]
    >>> float_values(2, idx).tolist()
    [2.0, 2.0, 2.0]
    """
    if isinstance(values, pd.Series):
        values = values.reindex(index)
        return values.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    arr = np.asarray(values, dtype=np.float64)
    return np.broadcast_to(arr, (len(index),)).astype(np.float64)
