"""A small reader for the Bayesian network Interchange Format (BIF 0.15).

BIF is the text format of the bnlearn network repository. A file holds one
``network`` block, one ``variable`` block per discrete variable and one
``probability`` block per variable::

    variable smoke {
      type discrete [ 2 ] { yes, no };
    }
    probability ( lung | smoke ) {
      (yes) 0.1, 0.9;
      (no) 0.01, 0.99;
    }

Following the format's definition, C/C++ comments are ignored, and so are ``,`` and
``|`` between tokens; ``property`` entries are skipped. A probability block holds
either rows ``(s_1, ..., s_k) p_1, ..., p_m;`` -- one per configuration of the
parents, whose states are listed in the order of the block's header
``probability ( child | parent_1, ..., parent_k )`` -- optionally completed by a
``default p_1, ..., p_m;`` row, or a single ``table`` entry. For a node without
parents ``table`` is its distribution; for a node with parents ``table`` lists the
values in C order over ``(child, parent_1, ..., parent_k)`` (the last parent varies
fastest), which is how pgmpy's ``BIFReader`` reads it.

:func:`parse_bif` returns a :class:`BIFNetwork` of conditional probability tables of
shape ``(card_parent_1, ..., card_parent_k, card_child)`` (the layout of
:class:`scm.Discrete`); :meth:`BIFNetwork.to_scm` turns it into a sampleable
:class:`scm.SCM`. Every syntax or consistency error is a :class:`scm.DataError` that
names the line, the variable and what was expected.
"""

from __future__ import annotations

import bisect
import gzip
import os
import re
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .._exceptions import DataError
from .._mechanisms import Discrete
from .._scm import SCM

__all__ = ["BIFNetwork", "parse_bif", "read_bif_text"]

#: Row sums of a table may differ from 1 by this much (rounding in the files); such
#: rows are renormalised. Larger deviations are an error.
ROW_SUM_TOLERANCE = 1e-3

_TOKEN = re.compile(r'"[^"]*"|[{}()\[\];]|[^\s{}()\[\];,|"]+')
_PUNCT = frozenset("{}()[];")
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)


@dataclass(frozen=True)
class BIFNetwork:
    """A discrete Bayesian network read from BIF text.

    Attributes
    ----------
    name : str
        The name in the ``network`` block.
    states : dict
        ``{variable: tuple of state labels}``, in declaration order.
    parents : dict
        ``{variable: tuple of parents}`` in the order of the probability header.
    tables : dict
        ``{variable: array of shape (card_parent_1, ..., card_parent_k, card)}``;
        ``tables[v][i_1, ..., i_k, :]`` is the distribution of ``v`` given its parents
        in states ``i_1, ..., i_k``. Read-only arrays, as written in the file (rows
        are renormalised only by :meth:`to_scm`).
    """

    name: str
    states: dict
    parents: dict
    tables: dict

    @property
    def variables(self) -> list:
        """Variable names in declaration order."""
        return list(self.states)

    def graph(self) -> nx.DiGraph:
        """The network's DAG (nodes in declaration order, edges parent -> child)."""
        g = nx.DiGraph()
        g.add_nodes_from(self.states)
        for child, parents in self.parents.items():
            g.add_edges_from((p, child) for p in parents)
        return g

    def to_scm(self) -> SCM:
        """A :class:`scm.SCM` with one :class:`scm.Discrete` mechanism per variable.

        Rows whose sum differs from 1 by at most ``ROW_SUM_TOLERANCE`` (rounding in the
        published files) are renormalised.

        Raises
        ------
        DataError
            If a row sums to something else.
        CycleError
            If the parent relation has a directed cycle.
        """
        mechanisms = {}
        for var, table in self.tables.items():
            sums = table.sum(axis=-1)
            bad = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                config = {p: self.states[p][i] for p, i in zip(self.parents[var], where)}
                raise DataError(
                    f"the probabilities of {var!r} given {config} sum to {float(sums[where]):.6g}, not 1"
                )
            mechanisms[var] = Discrete(table / sums[..., None], parents=self.parents[var], states=self.states[var])
        return SCM(self.graph(), mechanisms)


class _Tokens:
    """A cursor over the tokens of a BIF text that knows each token's line."""

    def __init__(self, text: str):
        # Blank out comments but keep their newlines, so line numbers stay right.
        text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n") + " ", text)
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        self._items = [(m.group(0), m.start()) for m in _TOKEN.finditer(text)]
        self._i = 0

    def _line(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    @property
    def line(self) -> int:
        """Line of the next token (or of the end of the text)."""
        if self._i < len(self._items):
            return self._line(self._items[self._i][1])
        return len(self._newlines) + 1

    def done(self) -> bool:
        return self._i >= len(self._items)

    def peek(self) -> str | None:
        return None if self.done() else self._items[self._i][0]

    def next(self, what: str = "a token") -> str:
        if self.done():
            raise DataError(f"BIF text ends early at line {self.line}: expected {what}")
        tok = self._items[self._i][0]
        self._i += 1
        return tok[1:-1] if tok.startswith('"') else tok

    def expect(self, token: str, context: str) -> None:
        line = self.line
        got = self.next(f"{token!r} {context}")
        if got != token:
            raise DataError(f"BIF line {line}: expected {token!r} {context}; got {got!r}")

    def until(self, stop: str, what: str) -> list[str]:
        """Tokens up to (and consuming) ``stop``."""
        out = []
        while True:
            tok = self.next(f"{stop!r} to close {what}")
            if tok == stop:
                return out
            if tok in _PUNCT:
                raise DataError(f"BIF line {self.line}: unexpected {tok!r} in {what}")
            out.append(tok)


def _numbers(tokens: list[str], *, line: int, what: str) -> np.ndarray:
    try:
        values = np.array([float(t) for t in tokens], dtype=float)
    except ValueError:
        bad = next(t for t in tokens if not _is_float(t))
        raise DataError(f"BIF line {line}: {bad!r} is not a probability in {what}") from None
    if not np.isfinite(values).all() or (values < 0).any():
        raise DataError(f"BIF line {line}: probabilities in {what} must be finite and >= 0; got {tokens}")
    return values


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _skip_property(tok: _Tokens) -> None:
    tok.until(";", "a property")


def _parse_network(tok: _Tokens) -> str:
    line = tok.line
    name = tok.next("the network's name")
    if name == "{":
        raise DataError(f"BIF line {line}: the network block needs a name")
    tok.expect("{", "after the network's name")
    while tok.peek() != "}":
        if tok.done():
            raise DataError(f"BIF text ends inside the network block opened at line {line}")
        if tok.next() != "property":
            raise DataError(f"BIF line {tok.line}: only 'property' entries may appear in the network block")
        _skip_property(tok)
    tok.next()
    return name


def _parse_variable(tok: _Tokens, states: dict) -> None:
    line = tok.line
    name = tok.next("a variable name")
    if name in _PUNCT:
        raise DataError(f"BIF line {line}: expected a variable name after 'variable'; got {name!r}")
    if name in states:
        raise DataError(f"BIF line {line}: variable {name!r} is declared twice")
    tok.expect("{", f"after 'variable {name}'")
    labels = None
    while True:
        key_line = tok.line
        key = tok.next(f"'}}' to close variable {name!r}")
        if key == "}":
            break
        if key == "property":
            _skip_property(tok)
            continue
        if key != "type":
            raise DataError(f"BIF line {key_line}: unexpected {key!r} in variable {name!r} (expected 'type' or 'property')")
        kind = tok.next("a variable type")
        if kind != "discrete":
            raise DataError(f"BIF line {key_line}: variable {name!r} has type {kind!r}; only 'discrete' is supported")
        tok.expect("[", f"after 'discrete' in variable {name!r}")
        card_text = tok.next("the number of states")
        tok.expect("]", f"after the number of states of {name!r}")
        if not card_text.isdigit() or int(card_text) < 1:
            raise DataError(f"BIF line {key_line}: the number of states of {name!r} must be a positive integer; got {card_text!r}")
        tok.expect("{", f"before the states of {name!r}")
        labels = tuple(tok.until("}", f"the states of {name!r}"))
        tok.expect(";", f"after the states of {name!r}")
        if len(labels) != int(card_text):
            raise DataError(
                f"BIF line {key_line}: variable {name!r} declares {card_text} states but lists {len(labels)}: {list(labels)}"
            )
        if len(set(labels)) != len(labels):
            dup = sorted({s for s in labels if labels.count(s) > 1})
            raise DataError(f"BIF line {key_line}: variable {name!r} lists state(s) {dup} twice")
    if labels is None:
        raise DataError(f"BIF line {line}: variable {name!r} has no 'type discrete [k] {{...}};' entry")
    states[name] = labels


def _parse_probability(tok: _Tokens, states: dict, parents: dict, tables: dict) -> None:
    line = tok.line
    tok.expect("(", "after 'probability'")
    names = tok.until(")", "the variables of a probability block")
    if not names:
        raise DataError(f"BIF line {line}: empty probability header")
    child, pa = names[0], tuple(names[1:])
    for v in names:
        if v not in states:
            raise DataError(f"BIF line {line}: probability block of {child!r} uses variable {v!r}, which is not declared")
    if child in tables:
        raise DataError(f"BIF line {line}: variable {child!r} has two probability blocks")
    if len(set(pa)) != len(pa) or child in pa:
        raise DataError(f"BIF line {line}: probability header of {child!r} repeats a variable: {names}")
    tok.expect("{", f"after the probability header of {child!r}")
    cards = tuple(len(states[p]) for p in pa)
    k = len(states[child])
    table = np.full(cards + (k,), np.nan)
    what = f"the probabilities of {child!r}"
    default = None
    saw_table = saw_rows = False
    while True:
        entry_line = tok.line
        key = tok.next(f"'}}' to close the probability block of {child!r}")
        if key == "}":
            break
        if key == "property":
            _skip_property(tok)
        elif key in ("table", "default"):
            values = _numbers(tok.until(";", what), line=entry_line, what=what)
            if key == "default":
                if values.size != k:
                    raise DataError(f"BIF line {entry_line}: 'default' of {child!r} needs {k} values; got {values.size}")
                default = values
                continue
            if values.size != table.size:
                raise DataError(
                    f"BIF line {entry_line}: 'table' of {child!r} needs {table.size} values "
                    f"({k} states x {int(np.prod(cards))} parent configurations); got {values.size}"
                )
            # C order over (child, parent_1, ..., parent_k): move the child axis last.
            table = np.moveaxis(values.reshape((k,) + cards), 0, -1).copy()
            saw_table = True
        elif key == "(":
            config = tok.until(")", f"a parent configuration of {child!r}")
            if len(config) != len(pa):
                raise DataError(
                    f"BIF line {entry_line}: a row of {child!r} must name the states of its {len(pa)} parent(s) "
                    f"{list(pa)}; got {config}"
                )
            index = []
            for p, s in zip(pa, config):
                if s not in states[p]:
                    raise DataError(
                        f"BIF line {entry_line}: {s!r} is not a state of {p!r} (states: {list(states[p])}) "
                        f"in the table of {child!r}"
                    )
                index.append(states[p].index(s))
            values = _numbers(tok.until(";", what), line=entry_line, what=what)
            if values.size != k:
                raise DataError(f"BIF line {entry_line}: a row of {child!r} needs {k} values; got {values.size}")
            if not np.isnan(table[tuple(index)]).all():
                raise DataError(f"BIF line {entry_line}: the row {tuple(config)} of {child!r} is given twice")
            table[tuple(index)] = values
            saw_rows = True
        else:
            raise DataError(
                f"BIF line {entry_line}: unexpected {key!r} in the probability block of {child!r} "
                "(expected 'table', 'default', '(' or 'property')"
            )
    if saw_table and saw_rows:
        raise DataError(f"BIF line {line}: the probability block of {child!r} mixes 'table' with rows")
    missing = np.isnan(table).all(axis=-1)
    if missing.any():
        if default is None:
            first = tuple(int(i) for i in np.argwhere(missing)[0])
            config = tuple(states[p][i] for p, i in zip(pa, first))
            raise DataError(
                f"BIF line {line}: the probability block of {child!r} has no row for the parent states {config} "
                f"of {list(pa)} ({int(missing.sum())} configuration(s) missing) and no 'default'"
            )
        table[missing] = default
    table.setflags(write=False)
    parents[child] = pa
    tables[child] = table


def parse_bif(text: str) -> BIFNetwork:
    """Parse BIF text into a :class:`BIFNetwork`.

    Parameters
    ----------
    text : str
        The content of a ``.bif`` file.

    Returns
    -------
    BIFNetwork

    Raises
    ------
    DataError
        On a syntax error or an inconsistency (undeclared variable, wrong number of
        values, unknown state, missing rows, a variable without a probability
        block), naming the line and the variable.

    Examples
    --------
    >>> net = parse_bif('''
    ... network toy { }
    ... variable rain { type discrete [ 2 ] { yes, no }; }
    ... variable wet { type discrete [ 2 ] { yes, no }; }
    ... probability ( rain ) { table 0.2, 0.8; }
    ... probability ( wet | rain ) { (yes) 0.9, 0.1; (no) 0.1, 0.9; }
    ... ''')
    >>> net.parents["wet"], net.tables["wet"].shape
    (('rain',), (2, 2))
    >>> net.tables["wet"][net.states["rain"].index("no")]
    array([0.1, 0.9])
    """
    if not isinstance(text, str):
        raise DataError(f"BIF text must be a str; got {type(text).__name__}")
    tok = _Tokens(text)
    name = None
    states: dict = {}
    parents: dict = {}
    tables: dict = {}
    while not tok.done():
        line = tok.line
        key = tok.next()
        if key == "network":
            if name is not None:
                raise DataError(f"BIF line {line}: a second 'network' block")
            name = _parse_network(tok)
        elif key == "variable":
            _parse_variable(tok, states)
        elif key == "probability":
            _parse_probability(tok, states, parents, tables)
        else:
            raise DataError(f"BIF line {line}: expected 'network', 'variable' or 'probability'; got {key!r}")
    if not states:
        raise DataError("BIF text declares no variable")
    missing = [v for v in states if v not in tables]
    if missing:
        raise DataError(f"BIF variable(s) {missing} have no probability block")
    return BIFNetwork(name=name or "unknown", states=states, parents={v: parents[v] for v in states}, tables={v: tables[v] for v in states})


def read_bif_text(source) -> str:
    """The text of a BIF file given as a path (``.gz`` is decompressed) or a binary file object."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as fh:
            raw = fh.read()
    elif hasattr(source, "read"):
        raw = source.read()
    else:
        raise DataError(f"expected a path or a file object holding BIF text; got {type(source).__name__}")
    if isinstance(raw, bytes):
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        raw = raw.decode("utf-8", errors="replace")
    return raw
