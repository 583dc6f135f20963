"""Conditional-independence tests with one batched interface.

See :class:`discovery.citest.CITest`.
"""

from ._citest import CI_TESTS, CITest, ChiSquare, DSeparation, FisherZ, GSquare, KCI, make_ci_test

__all__ = ["CITest", "FisherZ", "KCI", "ChiSquare", "GSquare", "DSeparation", "make_ci_test", "CI_TESTS"]
