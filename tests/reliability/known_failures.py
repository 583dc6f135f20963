"""The battery's cases that fail today, each with what goes wrong (issue 26).

``KNOWN_FAILURES`` maps a case id, ``"<entry point>-<corruption>"``, to the reason of its strict xfail: when
a fix makes the case pass, the xfail turns into a failure that asks for the line's removal. ``ISOLATED``
lists the cases that kill the interpreter today: the runner runs them in a child process. Reasons shared by
several cases are the constants first.
"""

# --------------------------------------------------------------------------- #
# reasons shared by several cases
# --------------------------------------------------------------------------- #
_SEED = (
    "issue 26: random_state=-5 reaches numpy: ValueError 'expected non-negative integer' leaks (expected: a ParameterError naming "
    "random_state)"
)
_HUGE = (
    "issue 26: a size of 10**12 reaches numpy: MemoryError 'Unable to allocate ... TiB' leaks (expected: a ParameterError naming the "
    "size)"
)
_FISHERZ_1E300 = (
    "issue 26: a column x 1e300 overflows the correlation matrix (RuntimeWarning 'overflow encountered in dot' leaks), then numpy's "
    "LinAlgError 'Eigenvalues did not converge' leaks; the unscaled data give an answer"
)
_LAGGED_1E300 = (
    "issue 26: a series x 1e300 overflows the lagged design (RuntimeWarning 'overflow encountered in multiply' leaks), then DataError "
    "'the lagged design is singular: columns ['bmi(t-2)'] are linearly dependent' although the unscaled series are not"
)
_COLLINEAR_1E300 = (
    "issue 26: the adjustment column 'age' x 1e300 overflows (RuntimeWarning 'overflow encountered in square' leaks) and is refused as "
    "'collinear with []'; the effect of dose on crp does not depend on the scale of age"
)
_OUTCOME_1E300 = (
    "issue 26: the outcome crp x 1e300 gives std_err_ = inf (an infinite interval); RuntimeWarning 'overflow encountered in square' leaks"
)
_CLI_DUPLICATES = (
    "issue 26: a CSV with two columns named 'bmi' is read with the second renamed 'bmi.1' and runs (exit 0) instead of exit 2 naming "
    "'bmi'"
)
_CLI_SEED = "issue 26: --seed -5 exits 1 with 'ValueError: expected non-negative integer' instead of exit 2 naming --seed"
_NOT_A_NUMBER = (
    "issue 26: a string parameter reaches numpy: TypeError \"ufunc 'isfinite' not supported for the input types\" leaks (expected: a "
    "ParameterError naming it)"
)
_STR_GRAPH = (
    "issue 26: a string where a graph is expected: AttributeError \"'str' object has no attribute ...\" leaks (expected: a named error "
    "saying a graph is needed)"
)
_JSON_TRUNCATED = "issue 26: truncated JSON text: json.JSONDecodeError 'Unterminated string ...' leaks (expected: a named error)"
_JSON_DICT = "issue 26: a dict where JSON text is expected: TypeError 'the JSON object must be str, bytes or bytearray, not dict' leaks"
_N_FOLDS = (
    "issue 26: n_folds=10**12 reaches sklearn: ValueError 'Cannot have number of splits n_splits=... greater than the number of samples' "
    "leaks"
)
_ONE_NODE = (
    "issue 26: n_nodes=1 is refused as \"The 'expected_degree' parameter of random_dag must be in the range [0, 0]; got 2.0\": it blames "
    "expected_degree, not n_nodes"
)
_KCI_1E300 = (
    "issue 26: a column x 1e300 overflows KCI's kernel (RuntimeWarning 'overflow encountered in square' leaks) and changes the answer"
)
_EMPTY_INDEX = "issue 26: an empty frame (0 rows): IndexError 'single positional indexer is out-of-bounds' leaks"
_LIST_OF_ROWS = (
    "issue 26: a list of 200 rows of 4 values is read as 200 rows of 1 series (one series found) instead of 4 series or a named error"
)
_TRANSFORM_PASSES = "issue 26: transform_columns does not check its input: "
_BREAK_CYCLES = "issue 26: break_cycles does not check its weight matrix: "
_AP_NONFINITE = "issue 26: a non-finite edge probability (P[age, bmi]) is accepted and ranked: returns 1.0"
_REPORT_DUPLICATES = "issue 26: a results table with two 'shd' columns: TypeError 'arg must be a list, tuple, 1-d array, or Series' leaks"
_DIRECTORY_FILE = (
    "issue 26: a directory that is an existing file: FileExistsError '[Errno 17] File exists' leaks (expected: a named error naming the "
    "path)"
)
_ADJ_NONFINITE = "issue 26: adjacency_to_dag reads a non-finite entry (adjacency[0, 1]) as an edge instead of refusing it"
_CONSTANT_PARENT = (
    "issue 26: a constant column 'bmi' gets a non-zero effect (-0.0466) on its child 'crp' (expected: a named error or an exact zero "
    "with a warning)"
)
_SCM_1E300 = (
    "issue 26: bmi x 1e300 changes the fitted standardised weight bmi -> crp from 0.6788 to 0.6808 (a scale-equivariant fit rescales "
    "exactly)"
)
_PREDICT_NONFINITE = "issue 26: non-finite noise for 'bmi' is accepted and propagates into bmi and crp"

# --------------------------------------------------------------------------- #
# the cases, grouped by entry point
# --------------------------------------------------------------------------- #
KNOWN_FAILURES: dict[str, str] = {}

# cases that kill the interpreter today: run in a child process, so that the suite survives them (none left:
# DPDAG(n_nodes=10**12), which aborted in XLA, is refused by a size check before any array is built)
ISOLATED: set[str] = set()
