"""Loaders of the real and benchmark data shipped with scmkit.

Every file read here is an unmodified copy of a public file (gzip-compressed where
marked ``.gz`` by us); ``LICENSES.md`` next to this module gives each file's origin,
licence and checksum.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import math
import re
import zipfile
from importlib import resources
from types import MappingProxyType

import networkx as nx
import numpy as np
import pandas as pd

from .._dataset import Dataset
from .._exceptions import DataError, ParameterError
from .._graph import PDAG, adjacency_to_dag
from .._mechanisms import Linear
from .._noise import Gaussian
from .._scm import SCM
from .._validation import check_in_range, check_option
from ._bif import BIFNetwork, parse_bif, read_bif_text

__all__ = [
    "SACHS_PROTEINS",
    "SACHS_GRAPH_SOURCES",
    "load_sachs",
    "sachs_graph",
    "load_syntren",
    "WINE_MEASUREMENTS",
    "load_wine",
    "list_bnlearn",
    "load_bnlearn",
    "bnlearn_dataset",
    "read_bif",
]

# --------------------------------------------------------------------------- files


def _open(*parts: str):
    """Open a shipped data file (binary)."""
    return resources.files(__package__).joinpath("data", *parts).open("rb")


def _read_bytes(*parts: str) -> bytes:
    with _open(*parts) as fh:
        data = fh.read()
    return gzip.decompress(data) if parts[-1].endswith(".gz") else data


# --------------------------------------------------------------------------- Sachs

#: The 11 measured proteins and phospholipids, named as in the CMU data files.
SACHS_PROTEINS = ("raf", "mek", "plc", "pip2", "pip3", "erk", "akt", "pka", "pkc", "p38", "jnk")

# Names used by the bnlearn network, GraN-DAG and the compiled JSON -> data-file names.
_SACHS_RENAME = {
    "Raf": "raf", "Mek": "mek", "Plcg": "plc", "PIP2": "pip2", "PIP3": "pip3", "Erk": "erk",
    "Akt": "akt", "PKA": "pka", "PKC": "pkc", "P38": "p38", "Jnk": "jnk",
}  # fmt: skip

_SACHS_INDICATORS = ("cd3_cd28", "icam2", "aktinhib", "g0076", "psitect", "u0126", "ly", "pma", "b2camp")

# indicator -> (measured targets, effect, reagent and mechanism), after Sachs et al. (2005).
_SACHS_REAGENTS = {
    "cd3_cd28": ((), "stimulation", "anti-CD3 + anti-CD28: general T-cell receptor stimulation, upstream of every measured molecule"),
    "icam2": ((), "stimulation", "ICAM-2: general stimulation through LFA-1, upstream of the measured molecules"),
    "aktinhib": (("akt",), "inhibition", "AKT inhibitor: inhibits Akt"),
    "g0076": (("pkc",), "inhibition", "G06976: inhibits PKC"),
    "psitect": (("pip2",), "inhibition", "psitectorigenin: inhibits PIP2"),
    "u0126": (("mek",), "inhibition", "U0126: inhibits MEK"),
    "ly": (("pip3",), "inhibition", "LY294002: inhibits PI3K (not measured), which produces PIP3 from PIP2"),
    "pma": (("pkc",), "activation", "PMA: activates PKC"),
    "b2camp": (("pka",), "activation", "beta2-cAMP: activates PKA"),
}

_SACHS_ORIGIN = (
    "Sachs, Perez, Pe'er, Lauffenburger & Nolan (2005), Causal protein-signaling networks derived from "
    "multiparameter single-cell data, Science 308(5721):523-529; files from github.com/cmu-phil/"
    "example-causal-datasets (real/sachs), CC0-1.0"
)

#: Allowed values of ``sachs_graph(source=...)`` with their edge counts.
SACHS_GRAPH_SOURCES = MappingProxyType(
    {"bnlearn": 17, "grandag": 17, "cmu": 20, "cdt": 18, "semgraph": 18, "consensus13": 13}
)

_SACHS_JSON_KEYS = {
    "bnlearn": "pgmpy sachs.bif",
    "grandag": "GraN-DAG DAG1.npy",
    "cmu": "cmu-phil ground.truth (20)",
    "cdt": "cdt cyto_full_target",
    "semgraph": "SEMgraph model (+PIP2<->PIP3)",
}

_SACHS_GRAPH_NOTES = {
    "bnlearn": "bnlearn repository network 'sachs' (the consensus network of Sachs et al. 2005, 17 edges); "
    "read from sachs.bif (copy from the pgmpy 1.1.2 wheel)",
    "grandag": "GraN-DAG (Lachapelle et al. 2020) data/sachs.zip DAG1.npy, 17 edges; equals 'bnlearn'",
    "cmu": "cmu-phil/example-causal-datasets real/sachs/ground.truth, 20 edges (Tetrad text format)",
    "cdt": "Causal Discovery Toolbox (cdt) sachs target graph 'cyto_full_target', 18 edges; "
    "has the directed cycle plc -> pip2 -> pip3 -> plc",
    "semgraph": "SEMgraph R package, sachs consensus model: 18 directed edges plus the bidirected "
    "edge pip2 <-> pip3 (in graph.graph['bidirected'])",
    "consensus13": "the 13 directed edges common to all five published lists "
    "(bnlearn, grandag, cmu, cdt, semgraph)",
}


@functools.cache
def _sachs_table() -> tuple[np.ndarray, tuple[str, ...]]:
    """Raw intensities (7466 x 11, read-only) and the regime of every row."""
    with _open("sachs", "cmu_sachs.2005.continuous.txt.gz") as fh, gzip.GzipFile(fileobj=fh) as gz:
        raw = pd.read_csv(gz, sep="\t")
    with _open("sachs", "cmu_sachs.2005.with_experiment_indicators.txt.gz") as fh, gzip.GzipFile(fileobj=fh) as gz:
        mixed = pd.read_csv(gz, sep="\t")
    expected = list(SACHS_PROTEINS)
    if list(raw.columns) != expected or list(mixed.columns) != expected + list(_SACHS_INDICATORS):
        raise DataError("the shipped Sachs files do not have the expected columns; the package data are damaged")
    values = raw.to_numpy(dtype=float)
    # The two files must hold the same rows in the same order: the mixed file stores log(x + 10).
    if values.shape[0] != mixed.shape[0] or np.abs(np.log(values + 10.0) - mixed[expected].to_numpy(float)).max() > 1e-4:
        raise DataError("the shipped Sachs files are not row-aligned; the package data are damaged")
    flags = mixed[list(_SACHS_INDICATORS)].to_numpy()
    if not np.isin(flags, (0, 1)).all() or (flags.sum(axis=1) == 0).any():
        raise DataError("the Sachs experiment indicators must be 0/1 with at least one 1 per row")
    names = np.array(_SACHS_INDICATORS, dtype=object)
    regimes = tuple("+".join(names[row.astype(bool)]) for row in flags)
    values.setflags(write=False)
    return values, regimes


def _regime_blocks(regimes) -> dict:
    """``{regime: (start, stop)}`` for contiguous blocks of rows, in order of appearance."""
    blocks: dict = {}
    start = 0
    for i in range(1, len(regimes) + 1):
        if i == len(regimes) or regimes[i] != regimes[start]:
            if regimes[start] in blocks:
                raise DataError(f"regime {regimes[start]!r} appears in more than one block of rows")
            blocks[regimes[start]] = (start, i)
            start = i
    return blocks


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"The {name!r} parameter must be True or False; got {value!r} instead.")
    return bool(value)


def load_sachs(kind: str = "observational", *, log: bool = False, graph: str = "bnlearn") -> Dataset:
    """The flow-cytometry data of Sachs et al. (2005): 11 phospho-proteins in single cells.

    Each row is one human T cell; the columns are the measured levels of the proteins
    and phospholipids :data:`SACHS_PROTEINS` (``plc`` is PLC-gamma, named ``Plcg`` in
    bnlearn). The experiment stacks nine conditions: a general stimulation
    (anti-CD3/CD28) alone, and with or replaced by reagents that inhibit or activate
    one molecule.

    Parameters
    ----------
    kind : {"observational", "interventional"}
        ``"observational"``: the 853 cells under anti-CD3/CD28 stimulation only (the
        rows used by the differentiable-DAG papers, e.g. GraN-DAG's ``data1.npy``,
        which equals them exactly). ``"interventional"``: all 7466 cells with a
        ``regime`` column naming the condition of each row.
    log : bool
        ``False`` (default): the raw fluorescence intensities (arbitrary units, all
        >= 1, strongly right-skewed, up to about 9000). ``True``: their natural
        logarithm. (The CMU multi-environment file stores ``log(x + 10)`` instead,
        rounded to 4 decimals.)
    graph : str
        Which published graph to attach as ground truth, see :func:`sachs_graph`;
        default the 17-edge bnlearn consensus DAG.

    Returns
    -------
    Dataset
        ``kind="observational"``: 853 x 11, ``Dataset.kind == "observational"``.
        ``kind="interventional"``: 7466 x 12 (the proteins and ``regime``),
        ``Dataset.kind == "multi_environment"``, ``environment == "regime"``,
        ``changed_nodes`` the proteins targeted by some regime and in ``metadata``:

        - ``"targets"``: ``{regime: tuple of targeted proteins}``;
        - ``"effects"``: ``{regime: {reagent: "stimulation" | "inhibition" | "activation"}}``;
        - ``"reagents"``: ``{indicator: description}``;
        - ``"blocks"``: ``{regime: (start, stop)}`` row ranges, in file order;
        - ``"observational_regime"``: ``"cd3_cd28"``.

    Notes
    -----
    The regimes are named after the experiment-indicator columns of the CMU file
    (a row's regime joins its active indicators with ``+``). The file stacks them in
    blocks, in this order and with these row counts:

    ================================  =====  ==================================
    regime                             rows  targets (effect)
    ================================  =====  ==================================
    ``cd3_cd28``                        853  none: the observational baseline
    ``cd3_cd28+icam2``                  902  none (general stimulation)
    ``cd3_cd28+aktinhib``               911  akt (inhibition)
    ``cd3_cd28+g0076``                  723  pkc (inhibition)
    ``cd3_cd28+psitect``                810  pip2 (inhibition)
    ``cd3_cd28+u0126``                  799  mek (inhibition)
    ``cd3_cd28+ly``                     848  pip3 (inhibition of PI3K)
    ``pma``                             913  pkc (activation)
    ``b2camp``                          707  pka (activation)
    ================================  =====  ==================================

    The targets are those Sachs et al. (2005) state for the reagents in their
    description of the perturbations (Science 308:523-529). LY294002 inhibits PI3K,
    which is not measured; its measured
    target is PI3K's product PIP3. The Akt inhibitor and U0126 block the *activity*
    of Akt and MEK, not their phosphorylation, so the measured akt and mek levels need
    not drop: these are interventions on the mechanisms of the children rather than
    clean ``do()`` interventions. Treat the targets as the experimenters' intent.

    Source: the CMU files ``sachs.2005.continuous.txt`` (raw values) and
    ``sachs.2005.continuous.discrete.experimental.mixed.maximum.2.txt`` (the
    indicators), github.com/cmu-phil/example-causal-datasets, CC0-1.0; see
    ``scm/datasets/LICENSES.md``.

    Examples
    --------
    >>> from scm.datasets import load_sachs
    >>> ds = load_sachs()
    >>> ds.data.shape, ds.graph.number_of_edges()
    ((853, 11), 17)
    >>> iv = load_sachs("interventional")
    >>> iv.kind, iv.environment, iv.data.shape
    ('multi_environment', 'regime', (7466, 12))
    >>> iv.metadata["targets"]["cd3_cd28+u0126"]
    ('mek',)
    """
    check_option(kind, ("observational", "interventional"), name="kind", owner="load_sachs")
    log = _check_bool(log, "log")
    truth = sachs_graph(graph)
    values, regimes = _sachs_table()
    if log:
        values = np.log(values)
    regimes_arr = np.array(regimes, dtype=object)
    blocks = _regime_blocks(regimes)
    scale = "natural log of the raw fluorescence intensities" if log else "raw fluorescence intensities (arbitrary units, >= 1)"
    metadata = {
        "source": _SACHS_ORIGIN,
        "scale": scale,
        "graph_source": graph,
        "graph_note": _SACHS_GRAPH_NOTES[graph],
    }
    if kind == "observational":
        rows = regimes_arr == "cd3_cd28"
        data = pd.DataFrame(values[rows], columns=list(SACHS_PROTEINS))
        metadata["regime"] = "cd3_cd28"
        return Dataset(data=data, graph=truth, name="sachs", kind="observational", metadata=metadata)
    data = pd.DataFrame(values.copy(), columns=list(SACHS_PROTEINS))
    data["regime"] = regimes_arr
    targets, effects = {}, {}
    for regime in blocks:
        parts = regime.split("+")
        targets[regime] = tuple(t for part in parts for t in _SACHS_REAGENTS[part][0])
        effects[regime] = {part: _SACHS_REAGENTS[part][1] for part in parts}
    metadata.update(
        targets=targets,
        effects=effects,
        reagents={k: v[2] for k, v in _SACHS_REAGENTS.items()},
        blocks=blocks,
        observational_regime="cd3_cd28",
    )
    changed = frozenset(t for ts in targets.values() for t in ts)
    return Dataset(
        data=data,
        graph=truth,
        name="sachs_interventional",
        kind="multi_environment",
        environment="regime",
        changed_nodes=changed,
        metadata=metadata,
    )


@functools.cache
def _sachs_json() -> dict:
    return json.loads(_read_bytes("sachs", "sachs_ground_truth_graphs_by_source.json").decode("utf-8"))


def _sachs_json_edges(source: str) -> list[tuple[str, str]]:
    """The edge list of ``source`` in the compiled JSON, renamed to the data-file names."""
    return [(_SACHS_RENAME[a], _SACHS_RENAME[b]) for a, b in _sachs_json()[_SACHS_JSON_KEYS[source]]]


def _tetrad_edges(text: str) -> list[tuple[str, str]]:
    edges = []
    in_edges = False
    for line in text.splitlines():
        if line.strip() == "Graph Edges:":
            in_edges = True
            continue
        if not in_edges or not line.strip():
            continue
        m = re.fullmatch(r"\s*\d+\.\s+(\S+)\s+(\S+)\s+(\S+)\s*", line)
        if m is None or m.group(2) != "-->":
            raise DataError(f"unexpected line in the Tetrad graph file: {line!r}")
        edges.append((m.group(1), m.group(3)))
    return edges


def _sachs_edges(source: str) -> list[tuple[str, str]]:
    if source == "bnlearn":
        net = _parsed_bif("sachs")
        return [(_SACHS_RENAME[p], _SACHS_RENAME[c]) for c in net.variables for p in net.parents[c]]
    if source == "grandag":
        adj = np.load(io.BytesIO(_read_bytes("sachs_grandag", "DAG1.npy")))
        header = np.load(io.BytesIO(_read_bytes("sachs_grandag", "sachs-header.npy")))
        names = [_SACHS_RENAME[str(h)] for h in header]
        return [(names[i], names[j]) for i, j in zip(*np.nonzero(adj))]
    if source == "cmu":
        return _tetrad_edges(_read_bytes("sachs", "cmu_sachs.2005.ground.truth.graph.txt").decode("utf-8"))
    if source in ("cdt", "semgraph"):
        return _sachs_json_edges(source)
    # consensus13: edges in every published list
    common = set(_sachs_json_edges("bnlearn"))
    for key in ("grandag", "cmu", "cdt", "semgraph"):
        common &= set(_sachs_json_edges(key))
    return sorted(common, key=lambda e: (SACHS_PROTEINS.index(e[0]), SACHS_PROTEINS.index(e[1])))


def sachs_graph(source: str = "bnlearn") -> nx.DiGraph:
    """A published ground-truth graph of the Sachs et al. (2005) signalling network.

    The consensus graphs used in the literature disagree. All are returned over the
    11 data-file names :data:`SACHS_PROTEINS` (``plc`` is PLC-gamma, ``Plcg`` in
    bnlearn), in that node order. Say which one a result is scored against.

    Parameters
    ----------
    source : str
        One of

        - ``"bnlearn"`` (default): the 17-edge DAG of the bnlearn repository's
          ``sachs`` network (read from its BIF file), the graph differentiable-DAG
          papers (NOTEARS, GraN-DAG, DAG-GNN, ...) report against;
        - ``"grandag"``: GraN-DAG's ``DAG1.npy`` (17 edges; the same graph);
        - ``"cmu"``: the ground truth of cmu-phil/example-causal-datasets
          (20 edges; adds pip2 -> pkc, pip3 -> akt, pip3 -> plc, plc -> pkc and
          drops plc -> pip3);
        - ``"cdt"``: the Causal Discovery Toolbox's target graph (18 edges). **Not a
          DAG**: it has the directed cycle plc -> pip2 -> pip3 -> plc;
        - ``"semgraph"``: the SEMgraph R package's consensus model, 18 directed edges
          plus a bidirected edge pip2 <-> pip3 (a latent confounder) on top of the
          directed pip3 -> pip2. A DiGraph cannot hold both, so the bidirected edge is
          listed in ``graph.graph["bidirected"]``;
        - ``"consensus13"``: the 13 edges present in all five lists above.

        The directed edges of the last three come from
        ``sachs_ground_truth_graphs_by_source.json``, compiled from the published
        lists (the test suite checks that its bnlearn, GraN-DAG and CMU entries equal
        the graphs read from the original files).

    Returns
    -------
    networkx.DiGraph
        A new graph on every call; ``graph.graph["source"]`` names the source and
        ``graph.graph["note"]`` describes it. Every source but ``"cdt"`` is acyclic.

    Raises
    ------
    ParameterError
        For an unknown source, listing the known ones.

    Examples
    --------
    >>> from scm.datasets import sachs_graph
    >>> {s: sachs_graph(s).number_of_edges() for s in ("bnlearn", "cmu", "cdt", "consensus13")}
    {'bnlearn': 17, 'cmu': 20, 'cdt': 18, 'consensus13': 13}
    >>> sachs_graph("semgraph").graph["bidirected"]
    [('pip2', 'pip3')]
    """
    check_option(source, SACHS_GRAPH_SOURCES, name="source", owner="sachs_graph")
    edges = _sachs_edges(source)
    unknown = {x for e in edges for x in e} - set(SACHS_PROTEINS)
    if unknown:  # pragma: no cover - guards the shipped files
        raise DataError(f"Sachs graph {source!r} names unknown proteins {sorted(unknown)}")
    g = nx.DiGraph(source=source, note=_SACHS_GRAPH_NOTES[source])
    g.add_nodes_from(SACHS_PROTEINS)
    g.add_edges_from(edges)
    if source == "semgraph":
        g.graph["bidirected"] = [("pip2", "pip3")]
    return g


# ------------------------------------------------------------------------- SynTReN

_SYNTREN_ORIGIN = (
    "SynTReN (Van den Bulcke et al. 2006) semi-synthetic gene expression, 20 genes, as shipped by GraN-DAG "
    "(Lachapelle et al. 2020), github.com/kurowasan/GraN-DAG data/syntren_p20.zip, MIT"
)


@functools.cache
def _syntren_zip() -> bytes:
    return _read_bytes("syntren", "grandag_syntren_p20.zip")


def load_syntren(i: int) -> Dataset:
    """One of the ten SynTReN datasets of GraN-DAG: 500 samples of 20 genes.

    SynTReN simulates gene expression from a sub-network of a known transcriptional
    regulatory network (E. coli) with Michaelis-Menten and Hill kinetics; the data
    are non-negative expression levels. The differentiable-DAG papers use these ten
    datasets next to Sachs.

    Parameters
    ----------
    i : int
        Which dataset, 1 to 10.

    Returns
    -------
    Dataset
        500 x 20, columns ``G0`` ... ``G19`` (the source gives no gene names), the true
        DAG (19 to 34 edges) as ``graph`` and its CPDAG (a :class:`scm.PDAG`, as shipped
        in ``CPDAG{i}.npy``) as ``metadata["cpdag"]``.

    Raises
    ------
    ParameterError
        If ``i`` is not an integer in 1..10.

    Examples
    --------
    >>> from scm.datasets import load_syntren
    >>> ds = load_syntren(1)
    >>> ds.data.shape, ds.graph.number_of_edges(), ds.variables[:3]
    ((500, 20), 24, ['G0', 'G1', 'G2'])
    """
    check_in_range(i, name="i", low=1, high=10, inclusive="both", integer=True)
    i = int(i)
    with zipfile.ZipFile(io.BytesIO(_syntren_zip())) as z:
        data = np.load(io.BytesIO(z.read(f"syntren/data{i}.npy")))
        dag = np.load(io.BytesIO(z.read(f"syntren/DAG{i}.npy")))
        cpdag = np.load(io.BytesIO(z.read(f"syntren/CPDAG{i}.npy")))
    if data.shape != (500, 20) or dag.shape != (20, 20) or cpdag.shape != (20, 20):  # pragma: no cover
        raise DataError(f"SynTReN dataset {i} has unexpected shapes {data.shape}, {dag.shape}, {cpdag.shape}")
    nodes = [f"G{j}" for j in range(20)]
    return Dataset(
        data=pd.DataFrame(data, columns=nodes),
        graph=adjacency_to_dag(dag != 0, nodes=nodes),
        name=f"syntren{i}",
        kind="observational",
        metadata={
            "source": _SYNTREN_ORIGIN,
            "cpdag": PDAG.from_adjacency((cpdag != 0).astype(int), nodes=nodes),
            "scale": "simulated expression levels (non-negative)",
        },
    )


# ------------------------------------------------------------------------- wine quality

_WINE_ORIGIN = (
    "Wine Quality (Cortez, Cerdeira, Almeida, Matos & Reis 2009, Modeling wine preferences by data mining from "
    "physicochemical properties, Decision Support Systems 47(4):547-553), UCI Machine Learning Repository, "
    "CC BY 4.0; files from github.com/cmu-phil/example-causal-datasets (real/wine-quality), CC0-1.0 repackaging"
)

#: The 11 physico-chemical measurements of the wine data, in the order of the files.
WINE_MEASUREMENTS = (
    "fixed_acidity", "volatile_acidity", "citric_acid", "residual_sugar", "chlorides", "free_sulfur_dioxide",
    "total_sulfur_dioxide", "density", "pH", "sulphates", "alcohol",
)  # fmt: skip


def _wine_knowledge() -> dict:
    """The tiers and required edges of the shipped Tetrad knowledge file."""
    lines = [ln.strip() for ln in _read_bytes("wine", "wine.quality.knowledge.txt").decode().splitlines()]
    tiers, required, section = [], [], None
    for line in lines:
        if line in ("addtemporal", "forbiddirect", "requiredirect"):
            section = line
        elif line and not line.startswith("/") and section == "addtemporal":
            tiers.append(tuple(line.split()[1:]))
        elif line and section == "requiredirect":
            a, b = line.split()
            required.append((a, b))
    return {"tiers": tuple(tiers), "required": tuple(required)}


def load_wine() -> Dataset:
    """The wine-quality data (Cortez et al. 2009): red and white vinho verde, two environments.

    Each row is one wine: 11 physico-chemical measurements (:data:`WINE_MEASUREMENTS`) and
    ``quality``, the median of at least three blind tasters' scores (0 to 10; the data hold 3
    to 9). Red and white wines share the variables but not their distributions (white wines
    hold far more residual sugar and sulphur dioxide, red wines more volatile acidity and
    chlorides): a real case of prediction under shift (train on one colour, predict the
    other), with the colour as the environment.

    Returns
    -------
    Dataset
        6497 x 13 (1599 red, 4898 white, in that order): the measurements, ``quality`` and
        ``colour`` (``"red"`` or ``"white"``); ``kind == "multi_environment"``,
        ``environment == "colour"``. No graph is known (``graph`` is None); ``metadata``
        holds ``"source"``, ``"knowledge"`` (the background knowledge shipped with the CMU
        copy: ``"tiers"``, the measurements before ``quality``, and ``"required"``, the edges
        ``alcohol -> quality`` and ``total_sulfur_dioxide -> quality``) and ``"rows"``
        (``{colour: count}``).

    Notes
    -----
    The original data are the UCI Machine Learning Repository's "Wine Quality" (CC BY 4.0:
    cite Cortez et al., Decision Support Systems 47(4), 2009); the shipped files are the
    tab-separated copies of github.com/cmu-phil/example-causal-datasets, gzipped; see
    ``scm/datasets/LICENSES.md``.

    Examples
    --------
    >>> from scm.datasets import load_wine
    >>> ds = load_wine()
    >>> ds.kind, ds.environment, ds.data.shape
    ('multi_environment', 'colour', (6497, 13))
    >>> ds.data.groupby("colour")["quality"].mean().round(2).to_dict()
    {'red': 5.64, 'white': 5.88}
    >>> ds.metadata["knowledge"]["required"]
    (('alcohol', 'quality'), ('total_sulfur_dioxide', 'quality'))
    """
    frames = []
    for colour in ("red", "white"):
        text = _read_bytes("wine", f"winequality-{colour}.continuous.txt.gz").decode()
        frame = pd.read_csv(io.StringIO(text), sep="\t")
        if tuple(frame.columns) != (*WINE_MEASUREMENTS, "quality"):  # pragma: no cover
            raise DataError(f"the {colour} wine file has unexpected columns {list(frame.columns)}")
        frames.append(frame.astype(float).assign(colour=colour))
    data = pd.concat(frames, ignore_index=True)
    return Dataset(
        data=data,
        graph=None,
        name="wine",
        kind="multi_environment",
        environment="colour",
        metadata={
            "source": _WINE_ORIGIN,
            "knowledge": _wine_knowledge(),
            "rows": {c: int(n) for c, n in data["colour"].value_counts(sort=False).items()},
        },
    )


# ------------------------------------------------------------------------- bnlearn

_BIF_NETWORKS = (
    "asia", "cancer", "earthquake", "survey", "sachs", "child", "insurance", "alarm",
    "water", "hailfinder", "hepar2", "win95pts", "andes",
)  # fmt: skip
_GAUSSIAN_NETWORKS = ("ecoli70", "magic-niab", "magic-irri", "arth150")

_BNLEARN_ORIGIN = (
    "bnlearn Bayesian network repository (Scutari, www.bnlearn.com/bnrepository); "
    "{fmt} copy from the pgmpy 1.1.2 wheel (pgmpy is MIT)"
)


def list_bnlearn(kind: str | None = None) -> list[str]:
    """Names of the bnlearn-repository networks shipped with scmkit.

    Parameters
    ----------
    kind : {None, "discrete", "gaussian"}
        Restrict to discrete networks (BIF, conditional probability tables) or to
        linear-Gaussian ones; ``None`` lists both, discrete first, each by size.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from scm.datasets import list_bnlearn
    >>> list_bnlearn("gaussian")
    ['ecoli70', 'magic-niab', 'magic-irri', 'arth150']
    >>> len(list_bnlearn())
    17
    """
    if kind is not None:
        check_option(kind, ("discrete", "gaussian"), name="kind", owner="list_bnlearn")
    if kind == "discrete":
        return list(_BIF_NETWORKS)
    if kind == "gaussian":
        return list(_GAUSSIAN_NETWORKS)
    return list(_BIF_NETWORKS + _GAUSSIAN_NETWORKS)


@functools.cache
def _parsed_bif(name: str) -> BIFNetwork:
    return parse_bif(_read_bytes("bif", f"{name}.bif.gz").decode("utf-8"))


@functools.cache
def _gaussian_json(name: str) -> dict:
    return json.loads(_read_bytes("bif_gaussian", f"{name}.json.gz").decode("utf-8"))


def _gaussian_scm(spec: dict, name: str) -> SCM:
    try:
        nodes = list(spec["nodes"])
        arcs = [tuple(a) for a in spec["arcs"]]
        cpds = spec["cpds"]
    except (KeyError, TypeError) as exc:  # pragma: no cover - guards the shipped files
        raise DataError(f"Gaussian network {name!r} lacks 'nodes', 'arcs' or 'cpds'") from exc
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(arcs)
    mechanisms, noise = {}, {}
    for node in nodes:
        cpd = cpds[node]
        parents = list(cpd["parents"])
        if set(parents) != set(graph.predecessors(node)):  # pragma: no cover
            raise DataError(f"Gaussian network {name!r}: the parents of {node!r} in 'cpds' and 'arcs' disagree")
        coef = cpd["coefficients"]
        mechanisms[node] = Linear({p: float(coef[p][0]) for p in parents}, intercept=float(coef["(Intercept)"][0]))
        noise[node] = Gaussian(std=math.sqrt(float(cpd["variance"][0])))
    return SCM(graph, mechanisms, noise)


def load_bnlearn(name: str) -> SCM:
    """A network of the bnlearn repository as a sampleable structural causal model.

    Discrete networks (BIF files) become an :class:`scm.SCM` of :class:`scm.Discrete`
    mechanisms: each node's conditional probability table, its parents in the order
    of the file's ``probability ( node | parents )`` header and its state labels
    (``model.mechanisms[node].states``); sampled values are the integer state codes
    ``0..k-1`` in the order the file lists the states. Gaussian networks become a
    linear-Gaussian SCM: :class:`scm.Linear` mechanisms with the published
    coefficients and intercepts and :class:`scm.Gaussian` noise of the published
    variance.

    Parameters
    ----------
    name : str
        One of :func:`list_bnlearn`:

        - discrete (nodes/edges): asia (8/8), cancer (5/4), earthquake (5/4),
          survey (6/6), sachs (11/17), child (20/25), insurance (27/52),
          alarm (37/46), water (32/66), hailfinder (56/66), hepar2 (70/123),
          win95pts (76/112), andes (223/338);
        - Gaussian: ecoli70 (46/70), magic-niab (44/66), magic-irri (64/102),
          arth150 (107/150).

    Returns
    -------
    SCM
        A new model on every call.

    Raises
    ------
    ParameterError
        For an unknown name, listing the known ones.

    Notes
    -----
    Source: the bnlearn Bayesian network repository (M. Scutari,
    https://www.bnlearn.com/bnrepository/), as shipped in the pgmpy 1.1.2 wheel (MIT);
    see ``scm/datasets/LICENSES.md`` for the original reference of each network.
    Table rows that do not sum to exactly 1 because of rounding in the files (by at
    most 1e-7 here) are renormalised.

    Examples
    --------
    >>> from scm.datasets import load_bnlearn
    >>> asia = load_bnlearn("asia")
    >>> asia.parents("either"), asia.mechanisms["either"].states
    (('lung', 'tub'), ('yes', 'no'))
    >>> asia.sample(3, random_state=0).shape
    (3, 8)
    >>> load_bnlearn("ecoli70")
    SCM(nodes=46, edges=70)
    """
    check_option(name, list_bnlearn(), name="name", owner="load_bnlearn")
    if name in _GAUSSIAN_NETWORKS:
        return _gaussian_scm(_gaussian_json(name), name)
    return _parsed_bif(name).to_scm()


def bnlearn_dataset(name: str, n: int, random_state=None) -> Dataset:
    """Sample ``n`` rows from a bnlearn network, with its graph as ground truth.

    Parameters
    ----------
    name : str
        A network of :func:`list_bnlearn`.
    n : int
        Number of rows (>= 1).
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    Dataset
        ``kind="discrete"`` (integer state codes; ``metadata["states"]`` maps every
        node to its state labels) for the BIF networks, ``kind="observational"`` for
        the Gaussian ones; ``scm`` is the generating model and ``graph`` a copy of its
        DAG.

    Examples
    --------
    >>> from scm.datasets import bnlearn_dataset
    >>> ds = bnlearn_dataset("asia", 5, random_state=0)
    >>> ds.kind, ds.data.shape, ds.metadata["states"]["smoke"]
    ('discrete', (5, 8), ('yes', 'no'))
    """
    model = load_bnlearn(name)
    check_in_range(n, name="n", low=1, inclusive="left", integer=True, owner="bnlearn_dataset")
    data = model.sample(n, random_state=random_state)
    discrete = name in _BIF_NETWORKS
    metadata = {"source": _BNLEARN_ORIGIN.format(fmt="BIF" if discrete else "JSON (bnlearn .rda converted)")}
    if discrete:
        metadata["states"] = {node: mech.states for node, mech in model.mechanisms.items()}
    return Dataset(
        data=data,
        graph=model.graph.copy(),
        name=name,
        kind="discrete" if discrete else "observational",
        scm=model,
        metadata=metadata,
    )


def read_bif(source) -> SCM:
    """Read a discrete Bayesian network from a BIF file into an :class:`scm.SCM`.

    Parameters
    ----------
    source : str, os.PathLike or binary file object
        A ``.bif`` file (``.bif.gz`` files and gzip streams are decompressed).

    Returns
    -------
    SCM
        One :class:`scm.Discrete` mechanism per variable, as in :func:`load_bnlearn`.

    Raises
    ------
    DataError
        On a malformed file, naming the line and the variable.

    Examples
    --------
    >>> import io
    >>> text = b'''variable a { type discrete [ 2 ] { lo, hi }; }
    ... probability ( a ) { table 0.25, 0.75; }'''
    >>> read_bif(io.BytesIO(text)).mechanisms["a"].table
    array([0.25, 0.75])
    """
    return parse_bif(read_bif_text(source)).to_scm()
