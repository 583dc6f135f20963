"""Every ```python block of docs/*.md and README.md runs, in order, one namespace per file."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
# Pages whose blocks train models for several seconds run in the full suite only (pytest -m "not slow" skips them).
SLOW_PAGES = {
    "attribution.md",
    "bootstrap.md",
    "cdnod.md",
    "comparing.md",
    "differentiable.md",
    "exchangeable.md",
    "invariance.md",
    "own_data.md",
    "rootcause.md",
    "shift.md",
}
DOCS = [pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW_PAGES else p for p in DOCS]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_code_blocks_run(path, tmp_path, monkeypatch):
    blocks = BLOCK.findall(path.read_text())
    if not blocks:
        pytest.skip(f"{path.name} has no python blocks")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{path.stem}"}
    for i, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{path.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the failure is the report
            raise AssertionError(f"{path.name}, code block {i} failed: {exc!r}\n{code}") from exc
