"""The object-class vocabulary: codes, names and Korean labels, in one table.

Codes are those of the file contract (docs/contracts.md: the ``object_class`` dimension of
points.laz and the ``object_class`` column of every layer); names are the ``kind`` strings;
the Korean labels are the type names of docs/addresses.md (a facility's address ends with its label,
e.g. ``… 6-1 소화기``). Every other module takes its codes and labels from here.

>>> CLASS_NAMES[2], CLASS_CODES["cctv"], KOREAN_LABELS["indoor_hydrant"]
('fire_extinguisher', 7, '옥내소화전')
>>> FACILITY_SUFFIX["exit_sign"]
'비상구'
"""

from __future__ import annotations

import pandas as pd

__all__ = ["CLASSES", "CLASS_CODES", "CLASS_LABELS", "CLASS_NAMES", "FACILITY_SUFFIX", "KOREAN_LABELS", "STORE", "UNCLASSIFIED"]

#: code, kind name, Korean label, English label, whether an object of that kind gets an address
_TABLE: tuple[tuple[int, str, str, str, bool], ...] = (
    (0, "none", "", "structure / other", False),
    (1, "store", "점포", "store", True),
    (2, "fire_extinguisher", "소화기", "extinguisher", True),
    (3, "indoor_hydrant", "옥내소화전", "hydrant", True),
    (4, "exit_sign", "비상구", "exit sign", True),
    (5, "aed", "자동심장충격기", "AED", True),
    (6, "fire_alarm", "발신기", "fire alarm", True),
    (7, "cctv", "CCTV", "CCTV", False),  # cameras are mapped, not addressed (docs/addresses.md)
    (8, "other_facility", "구급함", "first aid", True),
)
#: The table itself, indexed by code (columns name, korean, english, addressed)
CLASSES = pd.DataFrame.from_records(list(_TABLE), columns=["code", "name", "korean", "english", "addressed"]
                                    ).set_index("code")
#: object_class code -> kind name
CLASS_NAMES: dict[int, str] = {code: name for code, name, *_ in _TABLE}
#: kind name -> object_class code
CLASS_CODES: dict[str, int] = {name: code for code, name, *_ in _TABLE}
#: kind name -> Korean label
KOREAN_LABELS: dict[str, str] = {name: korean for _, name, korean, *_ in _TABLE}
#: object_class code -> legend label, English and Korean ("store 점포")
CLASS_LABELS: dict[int, str] = {code: (f"{en} {ko}" if ko and ko != en else en) for code, _, ko, en, _ in _TABLE}
#: Korean type name appended to an addressed facility's address (not stores, not CCTV)
FACILITY_SUFFIX: dict[str, str] = {name: korean for code, name, korean, _, addressed in _TABLE
                                   if addressed and code > 1}
STORE = CLASS_CODES["store"]
UNCLASSIFIED = CLASS_CODES["none"]
