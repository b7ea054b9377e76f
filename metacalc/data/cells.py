"""What a cell holds, in one place: blank, text or number, whatever the table it came from.

Cells reach the review as pandas values (NaN, ``pd.NA``), as JSON values (None) or as text typed in a sheet
("  "), and every step asks the same three questions of them. These helpers answer them for all, without
importing pandas: a pandas missing value can only exist once pandas is imported, so it is looked up then.
"""

from __future__ import annotations

import math
import sys
from typing import Any


def is_blank(value: Any) -> bool:
    """True for every kind of unknown: None, NaN, pandas' NA/NaT, and text that is only whitespace."""
    if isinstance(value, str):
        return not value.strip()
    return is_missing(value)


def is_missing(value: Any) -> bool:
    """True for a missing value of any library: None, NaN (float or numpy), pandas' NA and NaT."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    if isinstance(value, float):
        return math.isnan(value)
    pandas = sys.modules.get("pandas")
    if pandas is not None and (value is pandas.NA or value is pandas.NaT):
        return True
    try:
        return bool(value != value)  # NaN of other float types (numpy) is the only value unequal to itself
    except (TypeError, ValueError):
        return False


def as_text(value: Any) -> str:
    """The cell as stripped text, "" when blank; a whole number stored as a float reads as one (2011.0 -> "2011")."""
    if isinstance(value, str):  # most cells: one strip (blank text strips to "")
        return value.strip()
    if is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def as_texts(values: list[Any]) -> list[str]:
    """``as_text`` of each value of a column; a text or blank cell (most cells) is read here, without a call per
    cell."""
    pandas = sys.modules.get("pandas")
    na = pandas.NA if pandas is not None else None
    return [value.strip() if type(value) is str else "" if value is None or value is na else as_text(value)
            for value in values]


def as_number(value: Any) -> int | float | None:
    """The cell as an int (when whole) or a float; None when blank or not finite. Raises ValueError for text."""
    if is_blank(value):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() else number


def json_cell(value: Any) -> Any:
    """A cell as a JSON value: None when missing, plain Python numbers (numpy scalars unwrapped), else the value."""
    if is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def shown(value: Any) -> str:
    """A cell as a report prints it: numbers in their shortest form (36.0 -> "36"), blank as ""."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = as_number(value)
        return "" if number is None else f"{number:g}"
    return as_text(value)
