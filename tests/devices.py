"""Run test code in a fresh interpreter that sees several (forced) CPU devices.

XLA fixes the number of host devices when JAX starts, so the multi-device side of a
sharding test runs in a subprocess with ``--xla_force_host_platform_device_count``.
"""

import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def run_on_devices(code: str, n_devices: int = 4, timeout: float = 600) -> dict:
    """Execute ``code`` on ``n_devices`` forced host devices; return its JSON-able dict ``out``.

    The same ``code`` run with :func:`exec` in the test's own process (one device) gives
    the single-device side of the comparison.
    """
    script = f"import json, sys\nsys.path.insert(0, {str(REPO)!r})\n{code}\nprint(json.dumps(out))\n"
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={n_devices}", JAX_PLATFORMS="cpu")
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_here(code: str) -> dict:
    """Execute ``code`` in this process and return its dict ``out``."""
    namespace: dict = {}
    exec(code, namespace)
    return namespace["out"]
