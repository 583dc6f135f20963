"""The lazy jit of the discovery kernels: compile options on top-level calls only."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from discovery import _jax
from discovery._jax import jit

BOGUS = {"xla_no_such_option_in_any_jaxlib": False}


def _fresh_kernel():
    @jit
    def scaled_sum(x, *, scale=2.0):
        """Docstring kept."""
        return scale * jnp.sum(x)

    return scaled_sum


def test_top_level_calls_get_the_options_and_nested_calls_do_not(monkeypatch):
    monkeypatch.setattr(_jax, "fast_compile_options", lambda: BOGUS)
    kernel = _fresh_kernel()
    outer = jax.jit(lambda x: kernel(x) + 1.0)  # nested: a plain jit inside the outer program
    assert float(outer(np.ones(3))) == 7.0
    with pytest.raises(jax.errors.JaxRuntimeError, match="xla_no_such_option_in_any_jaxlib"):
        kernel(np.ones(3))  # top level: XLA sees the (bogus) options


def test_wrapper_keeps_the_name_the_docstring_and_the_jit_attributes():
    kernel = _fresh_kernel()
    assert kernel.__name__ == "scaled_sum" and kernel.__doc__ == "Docstring kept."
    x = np.arange(4.0)
    assert float(kernel(x)) == 12.0
    assert float(kernel(x, scale=0.5)) == 3.0
    assert kernel._cache_size() >= 1
    assert "scaled_sum" in kernel.lower(x).as_text()
    with pytest.raises(AttributeError):
        _ = kernel.__no_such_dunder__


def test_options_follow_the_backend(monkeypatch):
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert _jax.fast_compile_options() is None
    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    assert _jax.fast_compile_options() == _jax.CPU_FAST_COMPILE_OPTIONS
