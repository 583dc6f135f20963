"""Real and benchmark datasets shipped with scmkit, with their ground truth.

- :func:`load_sachs`: the flow-cytometry data of Sachs et al. (2005), observational
  (853 cells) or all nine experimental conditions (7466 cells, ``regime`` column);
  :func:`sachs_graph`: the published consensus graphs, which disagree.
- :func:`load_syntren`: the ten SynTReN gene-expression datasets of GraN-DAG.
- :func:`load_wine`: the wine-quality data (Cortez et al. 2009), red and white wines as two
  environments (``colour`` column).
- :func:`load_bnlearn` / :func:`bnlearn_dataset`: networks of the bnlearn repository
  (13 discrete, 4 linear-Gaussian) as sampleable :class:`scm.SCM` objects;
  :func:`read_bif` reads any BIF file.
- :func:`microservice_scm` / :func:`microservice_graph`: the microservice-latency example of
  DoWhy-GCM (eleven services); :func:`load_microservice_anomaly`: its published outlier;
  :func:`microservice_faults`: root-cause cases with a known slow service.

Every shipped file is an unmodified copy of a public file; ``LICENSES.md`` in this
package gives its origin, licence and checksum.

Examples
--------
>>> from scm.datasets import load_sachs, load_bnlearn
>>> load_sachs()
Dataset(name='sachs', kind='observational', rows=853, variables=['raf', 'mek', 'plc', 'pip2', 'pip3', ...])
>>> load_bnlearn("alarm")
SCM(nodes=37, edges=46)
"""

from ._loaders import (
    SACHS_GRAPH_SOURCES,
    SACHS_PROTEINS,
    WINE_MEASUREMENTS,
    bnlearn_dataset,
    list_bnlearn,
    load_bnlearn,
    load_sachs,
    load_syntren,
    load_wine,
    read_bif,
    sachs_graph,
)
from ._microservice import (
    MICROSERVICE_EDGES,
    MICROSERVICES,
    load_microservice_anomaly,
    microservice_faults,
    microservice_graph,
    microservice_scm,
)

__all__ = [
    "load_sachs",
    "sachs_graph",
    "SACHS_PROTEINS",
    "SACHS_GRAPH_SOURCES",
    "load_syntren",
    "load_wine",
    "WINE_MEASUREMENTS",
    "list_bnlearn",
    "load_bnlearn",
    "bnlearn_dataset",
    "read_bif",
    "MICROSERVICES",
    "MICROSERVICE_EDGES",
    "microservice_graph",
    "microservice_scm",
    "load_microservice_anomaly",
    "microservice_faults",
]
