"""Parameter values: type checks against a component's signature, canonical formatting,
comparison and short display (numpy is used only when a value is an array)."""

from __future__ import annotations

import copy
import math
import numbers
import sys
import types
import typing
from typing import Any

from .contracts import Component

Scalar = bool | int | float | str


def format_value(value: Any) -> str:
    """Canonical text of a parameter value, stable across float formatting noise.

    ``0.1``, ``1e-1`` and ``0.1 + 1e-17`` all give ``0.1``; ``2`` and ``2.0`` give ``2``.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return format(value, ".12g")
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(format_value(v) for v in value) + ")"
    return str(value)


def canonical(value: Any) -> Any:
    """A JSON-friendly value whose equality matches :func:`format_value`'s."""
    if isinstance(value, float) and math.isfinite(value):
        return float(format(value, ".12g"))
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    return value


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "none"
    names = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _matches(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if tp is Any or tp is object:
        return True
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp in (bool, str):
        return isinstance(value, tp)
    if origin in (list, tuple) or tp in (list, tuple):
        return isinstance(value, (list, tuple))
    return True  # an annotation we do not understand: accept


def expected_type(cls: type[Component], key: str) -> Any:
    """The type a parameter should have: its annotation, else its default's type."""
    ann = cls.param_annotations().get(key)
    if ann is not None:
        return ann
    default = cls.param_defaults().get(key)
    return Any if default is None else type(default)


def check_type(cls: type[Component], key: str, value: Any) -> str | None:
    """``None`` when ``value`` suits parameter ``key`` of ``cls``; else what was expected."""
    tp = expected_type(cls, key)
    if _matches(value, tp):
        return None
    return _type_name(tp)


def short_repr(value: Any, width: int = 60) -> str:
    """``repr`` of a value, cut to ``width`` characters (arrays summarised); never raises."""
    np = sys.modules.get("numpy")  # no numpy loaded: no arrays to summarise
    try:
        if np is not None and isinstance(value, np.ndarray):
            text = np.array2string(value, threshold=6, edgeitems=2, precision=4, separator=", ")
            text = f"array({text})".replace("\n", "")
        else:
            text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= width else text[: width - 1] + "…"


def values_equal(a: Any, b: Any) -> bool:
    """Whether two parameter values are equal: arrays elementwise, NaN equal to NaN, containers
    recursively, numbers by value (``1 == 1.0``); never raises."""
    if a is b:
        return True
    np = sys.modules.get("numpy")  # no numpy loaded: no arrays to compare
    if np is not None and (isinstance(a, np.ndarray) or isinstance(b, np.ndarray)):
        try:
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape:
                return False
            try:
                return bool(np.array_equal(a, b, equal_nan=True))
            except TypeError:  # equal_nan needs a numeric dtype
                return bool(np.array_equal(a, b))
        except Exception:
            return False
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        if isinstance(a, bool) != isinstance(b, bool):
            return False
        try:
            if isinstance(a, numbers.Real) and isinstance(b, numbers.Real) and math.isnan(a) and math.isnan(b):
                return True
        except (TypeError, ValueError):
            pass
        return bool(a == b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # an array-like whose == is elementwise (a tensor, a data frame)
        try:
            import numpy as np

            return values_equal(np.asarray(a), np.asarray(b))
        except Exception:
            return False


def snapshot(value: Any) -> Any:
    """A deep copy of ``value`` to compare with later (``value`` itself when a copy would not
    compare equal to it, e.g. an object without ``__eq__``: then only replacing it is seen)."""
    try:
        clone = copy.deepcopy(value)
    except Exception:
        return value
    return clone if values_equal(clone, value) else value
