"""Input validation shared by every public entry point.

The functions here turn user input into clean, named numpy/pandas objects or raise
an error that names the offending column, node or parameter.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ._exceptions import DataError, ParameterError, UnknownNodeError

__all__ = [
    "as_dataframe",
    "check_numeric_frame",
    "check_option",
    "check_in_range",
    "check_nodes",
    "check_random_state",
    "check_memory",
    "check_sample_size",
    "check_real",
]


def as_dataframe(data, *, name: str = "data", columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Return ``data`` as a DataFrame with string column names.

    Arrays get the column names ``X0, X1, ...`` unless ``columns`` is given.
    The input is never modified. A scipy sparse matrix or array is refused (densify it first).
    """
    if type(data).__module__.startswith("scipy.sparse"):
        raise DataError(f"{name} is a scipy sparse {type(data).__name__}: sparse input is not supported; "
                        "pass a dense array (data.toarray()) or a DataFrame")
    if isinstance(data, pd.DataFrame):
        frame = data
        if columns is not None:
            raise ParameterError(f"'columns' is only used when {name} is an array, not a DataFrame")
    elif isinstance(data, pd.Series):
        frame = data.to_frame()
    elif isinstance(data, Mapping):
        raise DataError(
            f"{name} must be a DataFrame or a 2-D array; got {type(data).__name__} (pandas.DataFrame({name}) builds a "
            "frame from a dict of columns)"
        )
    else:
        try:
            arr = np.asarray(data)
        except Exception as exc:  # pragma: no cover - exotic inputs
            raise DataError(f"{name} must be a DataFrame or a 2-D array; got {type(data).__name__}") from exc
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise DataError(f"{name} must be 2-D (rows x variables); got an array of shape {arr.shape}")
        if columns is None:
            columns = [f"X{i}" for i in range(arr.shape[1])]
        if len(columns) != arr.shape[1]:
            raise DataError(f"{name} has {arr.shape[1]} columns but {len(columns)} names were given")
        frame = pd.DataFrame(arr, columns=list(columns))
        if arr.dtype == object:  # a mixed array (numbers and strings): each column gets its own dtype
            frame = frame.infer_objects()
    dup = frame.columns[frame.columns.duplicated()].tolist()
    if dup:
        raise DataError(f"{name} has duplicated column names: {dup}")
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    return frame


def check_numeric_frame(
    data,
    *,
    name: str = "data",
    min_rows: int = 1,
    allow_constant: bool = True,
    allow_nan: bool = False,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Validate a numeric data table and return it as a float DataFrame.

    Raises
    ------
    DataError
        Naming the column that is non-numeric, holds NaN/inf or is constant, or
        saying how many rows were needed.
    """
    frame = as_dataframe(data, name=name, columns=columns)
    if frame.shape[1] == 0:  # the second half is scikit-learn's wording of the same error
        raise DataError(f"{name} has no columns: 0 feature(s) (shape={frame.shape}) while a minimum of 1 is required.")
    complex_ = [c for c in frame.columns if pd.api.types.is_complex_dtype(frame[c])]
    if complex_:
        raise DataError(f"Complex data not supported: {name} column(s) {complex_[:5]} hold complex numbers")
    bad = [c for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]
    if bad:
        kinds = ", ".join(f"{c!r} ({frame[c].dtype})" for c in bad[:5])
        raise DataError(f"{name} must be numeric; non-numeric column(s): {kinds}")
    values = frame.to_numpy(dtype=float)
    if values.shape[0] < min_rows:
        raise DataError(f"{name} has {values.shape[0]} rows; at least {min_rows} are needed")
    if not allow_nan:
        finite = np.isfinite(values)
        if not finite.all():
            col = int(np.where(~finite.all(axis=0))[0][0])
            row = int(np.where(~finite[:, col])[0][0])
            raise DataError(
                f"{name} column {frame.columns[col]!r} holds NaN or inf "
                f"(first at row {frame.index[row]!r}); drop or impute missing values first"
            )
    if not allow_constant and values.shape[0] > 0:
        const = [frame.columns[j] for j in range(values.shape[1]) if np.nanmax(values[:, j]) == np.nanmin(values[:, j])]
        if const:
            raise DataError(f"{name} column(s) {const} are constant; a constant variable carries no information")
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)


def check_option(value, allowed: Iterable[str], *, name: str, owner: str | None = None) -> str:
    """Check that a string option is one of ``allowed``; the error lists them."""
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        where = f" of {owner}" if owner else ""
        raise ParameterError(
            f"The {name!r} parameter{where} must be one of {allowed}; got {value!r} instead."
        )
    return value


def check_bool(value, *, name: str, owner: str | None = None) -> bool:
    """Check that a flag is a bool (numpy's included), not a truthy int or string."""
    if not isinstance(value, (bool, np.bool_)):
        where = f" of {owner}" if owner else ""
        raise ParameterError(f"The {name!r} parameter{where} must be a bool; got {value!r} instead.")
    return bool(value)


def check_in_range(value, *, name: str, low=None, high=None, inclusive: str = "neither", owner: str | None = None, integer: bool = False):
    """Check a scalar parameter lies in a range, e.g. ``alpha`` in (0, 1)."""
    where = f" of {owner}" if owner else ""
    kind = "an int" if integer else "a number"
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if isinstance(value, bool) or not ok_type or (not integer and not np.isfinite(value)):
        raise ParameterError(f"The {name!r} parameter{where} must be {kind}; got {value!r} instead.")
    lo_ok = low is None or (value >= low if inclusive in ("both", "left") else value > low)
    hi_ok = high is None or (value <= high if inclusive in ("both", "right") else value < high)
    if not (lo_ok and hi_ok):
        lb = "[" if inclusive in ("both", "left") else "("
        rb = "]" if inclusive in ("both", "right") else ")"
        lo_s = "-inf" if low is None else low
        hi_s = "inf" if high is None else high
        raise ParameterError(
            f"The {name!r} parameter{where} must be in the range {lb}{lo_s}, {hi_s}{rb}; got {value!r} instead."
        )
    return value


def check_real(value, *, name: str, owner: str | None = None) -> float:
    """``value`` as a float if it is a finite real number (not a bool or a string), else a ParameterError naming it.

    Examples
    --------
    >>> check_real(2, name="std", owner="Gaussian")
    2.0
    >>> check_real("x", name="std", owner="Gaussian")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'std' parameter of Gaussian must be a finite number; got 'x' instead.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and np.isfinite(value):
        return float(value)
    where = f" of {owner}" if owner else ""
    raise ParameterError(f"The {name!r} parameter{where} must be a finite number; got {value!r} instead.")


def check_nodes(nodes, known: Collection, *, what: str = "node", where: str = "the graph") -> list:
    """Return ``nodes`` as a list after checking each is in ``known``.

    A single hashable that is in ``known`` is treated as one node.
    """
    if nodes is None:
        return []
    if isinstance(nodes, (str, int)) or (not isinstance(nodes, Iterable)):
        nodes = [nodes]
    nodes = list(nodes)
    missing = [n for n in nodes if n not in known]
    if missing:
        sample = sorted(map(str, known))[:10]
        more = " ..." if len(known) > 10 else ""
        raise UnknownNodeError(f"unknown {what}(s) {missing}: not in {where} (known: {sample}{more})")
    return nodes


def check_random_state(random_state) -> np.random.Generator:
    """Turn ``None``, a non-negative int or a Generator into a ``numpy.random.Generator``.

    Examples
    --------
    >>> check_random_state(-1)
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: random_state must be a non-negative int (a seed), None or a numpy Generator; got -1
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)) and random_state < 0:
        raise ParameterError(f"random_state must be a non-negative int (a seed), None or a numpy Generator; got {random_state!r}")
    if random_state is None or (
        isinstance(random_state, (numbers.Integral, np.random.SeedSequence)) and not isinstance(random_state, (bool, np.bool_))
    ):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise ParameterError(f"random_state must be None, an int or a numpy Generator; got {random_state!r}")


def _physical_memory() -> int | None:
    """This machine's physical memory in bytes (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def _fmt_bytes(b: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if b < 1000 or unit == "PB":
            return f"{b:.3g} {unit}"
        b /= 1000.0
    return f"{b:.3g} PB"  # pragma: no cover


def check_memory(n_values, *, name: str, what: str, owner: str | None = None, dtype: str = "float64", copies: int = 3,
                 hint: str = "") -> None:
    """Refuse a size whose arrays would not fit in this machine's memory, before anything is allocated.

    ``n_values`` numbers of ``dtype``, held ``copies`` times, must fit in the physical memory;
    otherwise a :class:`ParameterError` names the parameter, what it asks for and the memory
    available, instead of numpy's ``MemoryError``, an allocation that aborts the interpreter
    (XLA) or the machine swapping. The shared size check of the simulators, samplers and
    models (:func:`check_sample_size` is its form for rows of columns).

    Parameters
    ----------
    n_values : int or float
        How many numbers the size asks for (e.g. ``n_nodes ** 2`` for a matrix of edge weights).
    name, owner : str
        The parameter and the function, for the message.
    what : str
        What the size asks for, in words (e.g. ``"1000 nodes (a 1000 x 1000 matrix)"``).
    dtype : str, default "float64"
        The arrays' type (its item size counts).
    copies : int, default 3
        How many such arrays the computation holds at once.
    hint : str
        What to do instead, appended to the message.

    Raises
    ------
    ParameterError
        Naming the parameter, the memory needed and the memory of this machine.

    Examples
    --------
    >>> check_memory(10**24, name="n_nodes", what="10**12 nodes (a 10**12 x 10**12 matrix)", owner="DPDAG")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'n_nodes' parameter of DPDAG asks for 10**12 nodes (a 10**12 x 10**12 matrix): ...
    """
    need = float(n_values) * np.dtype(dtype).itemsize * copies
    mem = _physical_memory()
    if mem is not None and need > mem:
        where = f" of {owner}" if owner else ""
        raise ParameterError(
            f"The {name!r} parameter{where} asks for {what}: about {_fmt_bytes(need)} of {dtype} arrays, more than this "
            f"machine's {_fmt_bytes(mem)} of memory" + (f"; {hint}" if hint else "")
        )


def check_sample_size(n, n_columns: int, *, name: str = "n", owner: str | None = None, copies: int = 3) -> int:
    """Check a number of rows to draw: an int >= 1 whose arrays fit in this machine's memory.

    ``n`` rows of ``n_columns`` float64 columns, held ``copies`` times while sampling (noise,
    values, the returned frame), must fit in the physical memory (:func:`check_memory`);
    otherwise a :class:`ParameterError` names the parameter, the size asked and the memory
    available, instead of numpy's ``MemoryError`` (or the machine swapping).

    Examples
    --------
    >>> check_sample_size(10, 3)
    10
    >>> check_sample_size(10**15, 3, owner="SCM.sample")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'n' parameter of SCM.sample asks for 1000000000000000 rows of 3 columns: ...
    """
    check_in_range(n, name=name, low=1, inclusive="left", integer=True, owner=owner)
    check_memory(float(n) * max(int(n_columns), 1), name=name, what=f"{n} rows of {n_columns} columns", owner=owner,
                 copies=copies, hint="draw fewer rows (or in batches)")
    return int(n)
