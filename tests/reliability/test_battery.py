"""Run the reliability battery (``battery.py``): every public entry point against every corruption
that applies to its kind of input.

Each case asserts a named scmkit error naming the offending column, node or parameter, or the same
result as the clean input, or a result that passes the entry point's sanity check, as the tables say;
and that the inputs were not mutated and no foreign warning leaked. The cases that fail today are
strict xfails (``battery.KNOWN_FAILURES``): a fix turns them into failures that ask for their line to
be removed.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from scm import DataError

from . import battery

matplotlib.use("Agg")


def _params():
    out = []
    for entry, corruption in battery.cases():
        cid = battery.case_id(entry, corruption)
        marks = [pytest.mark.slow] if battery.is_slow(entry, corruption) else []
        if cid in battery.KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=battery.KNOWN_FAILURES[cid]))
        out.append(pytest.param(entry, corruption, id=cid, marks=marks))
    return out


@pytest.mark.parametrize("entry, corruption", _params())
def test_battery(entry, corruption, tmp_path):
    cid = battery.case_id(entry, corruption)
    run = battery.run_case_isolated if cid in battery.ISOLATED else battery.run_case
    problems = run(entry, corruption, tmp_path)
    assert not problems, f"{cid}: " + "; ".join(problems)


def test_every_public_entry_point_has_a_line_or_a_reason():
    """A new public class or function without a battery line (or a commented exclusion) fails here."""
    public = battery.public_names()
    covered = {id(obj) for entry in battery.ENTRIES for obj in battery.resolve(entry.name)}
    # a name exported twice (discovery.PC and discovery.constraint.PC) is covered or excluded by either path
    covered |= {id(public[name]) for name in battery.EXCLUDED if name in public}
    missing = [name for name, obj in public.items() if id(obj) not in covered]
    assert not missing, f"add a line to battery.ENTRIES (or a reason to battery.EXCLUDED) for {missing}"


def test_exclusions_are_public_and_not_covered():
    public = battery.public_names()
    covered = {id(obj) for entry in battery.ENTRIES for obj in battery.resolve(entry.name)}
    stale = [name for name in battery.EXCLUDED if name not in public]
    assert not stale, f"battery.EXCLUDED names what is not public: {stale}"
    both = [name for name in battery.EXCLUDED if id(public[name]) in covered]
    assert not both, f"excluded but covered by a line: {both}"


def test_tables_are_consistent():
    ids = [battery.case_id(e, c) for e, c in battery.cases()]
    assert len(ids) == len(set(ids)), "two lines share a name"
    for entry in battery.ENTRIES:
        assert entry.kind in battery.KINDS, entry.name
        for corruption in entry.expect:
            assert corruption in battery.CORRUPTIONS, (entry.name, corruption)
        battery.resolve(entry.name)  # the name is the public object's path
    for kind in battery.KINDS.values():
        for corruption in (*kind.applicable(), *kind.expect):
            assert corruption in battery.CORRUPTIONS, (kind.name, corruption)
    stale = set(battery.KNOWN_FAILURES) - set(ids)
    assert not stale, f"KNOWN_FAILURES names no case: {sorted(stale)}"


# --------------------------------------------------------------------------- #
# the harness itself: each kind of failure is caught
# --------------------------------------------------------------------------- #
def _case(call, corruption, tmp_path, kind="table", **fields):
    entry = battery.Entry(f"harness-{corruption}-{call.__name__}", kind, call, **fields)
    return " ".join(battery.run_case(entry, corruption, tmp_path))


def test_harness_catches_a_mutated_input(tmp_path):
    def mutates(i):
        i.data.iloc[0, 0] = 99.0
        return 1.0

    assert "inputs mutated: ['data']" in _case(mutates, "clean", tmp_path)


def test_harness_catches_a_bare_error_and_an_error_without_the_column(tmp_path):
    def bare(i):
        raise ValueError("could not convert")

    def vague(i):
        raise DataError("the data hold NaN")

    def precise(i):
        raise DataError("column 'bmi' holds NaN")

    assert "builtins.ValueError leaked" in _case(bare, "nan", tmp_path)
    assert "does not name 'bmi'" in _case(vague, "nan", tmp_path)
    assert _case(precise, "nan", tmp_path) == ""


def test_harness_catches_a_silent_answer_a_changed_answer_and_a_non_finite_one(tmp_path):
    def mean(i):
        return float(np.asarray(i.data["bmi"], dtype=float).mean())

    def dtype(i):
        return str(i.data["bmi"].dtype)

    assert "no error; returned" in _case(mean, "nan", tmp_path)
    assert "not the same result" in _case(dtype, "integer", tmp_path)
    assert "wrong result: result is inf" in _case(mean, "inf", tmp_path, expect={"inf": "error_or_ok"})


def test_harness_catches_a_foreign_warning(tmp_path):
    def warns(i):
        return float(np.float64(1.0) / np.float64(0.0))  # numpy warns: divide by zero

    assert "warnings leaked: ['builtins.RuntimeWarning: divide by zero" in _case(warns, "clean", tmp_path, check=None,
                                                                                 expect={"clean": "error_or_ok"})


def test_harness_holds_the_command_line_to_one_error_line(tmp_path):
    def traceback(i):
        return battery.CliResult(1, "", "Traceback (most recent call last):\n  ...\nValueError: x\n")

    def two_lines(i):
        return battery.CliResult(2, "", "scmkit: error: first\nscmkit: error: second\n")

    def one_line(i):
        return battery.CliResult(2, "", "scmkit: error: data.csv: column 'bmi' has NaN\n")

    assert "with a traceback" in _case(traceback, "nan", tmp_path, kind="cli-csv")
    assert "2 'scmkit: error:' lines" in _case(two_lines, "nan", tmp_path, kind="cli-csv")
    assert _case(one_line, "nan", tmp_path, kind="cli-csv") == ""
