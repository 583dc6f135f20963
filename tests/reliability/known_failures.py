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
_PHASE_NO_CHECK = "issue 26: the phase does not check its data: "
_PREDICT_NONFINITE = "issue 26: non-finite noise for 'bmi' is accepted and propagates into bmi and crp"

# --------------------------------------------------------------------------- #
# the cases, grouped by entry point
# --------------------------------------------------------------------------- #
KNOWN_FAILURES: dict[str, str] = {
    "discovery.constraint.orient_colliders-single_column": (
        "issue 26: a CI test over one column asked about 'bmi' of the skeleton: KeyError 'bmi' leaks (expected: UnknownNodeError)"
    ),
    "discovery.constraint.apply_background_knowledge-wrong_type_graph": _STR_GRAPH,
    "discovery.constraint.context_knowledge-context_is_variable": (
        "issue 26: a context that is also a variable ('bmi') is accepted: bmi lands in tier 1 with the variables, not in tier 0"
    ),
    "discovery.constraint.context_knowledge-duplicate_variables": "issue 26: a variable listed twice ('bmi') is accepted silently",
    "discovery.constraint.context_skeleton-few_rows": (
        "issue 26: 4 rows for 5 variables are accepted and a skeleton is returned (expected: a named error with the rows needed)"
    ),
    "discovery.constraint.orient_with_context-wrong_type_graph": _STR_GRAPH,
    "discovery.constraint.changing_nodes-wrong_type_graph": _STR_GRAPH,
    "discovery.constraint.changing_nodes-unknown:contexts": (
        "issue 26: an unknown context 'NOPE' is ignored: returns [] instead of an UnknownNodeError"
    ),
    "discovery.NOTEARS-few_rows": (
        "issue 26: 3 rows for 4 variables are fitted and 2 edges returned (expected: a named error with the rows needed)"
    ),
    "discovery.NOTEARS[standardize]-few_rows": (
        "issue 26: 3 rows for 4 variables are fitted and 2 edges returned (expected: a named error with the rows needed)"
    ),
    "discovery.DPDAG-huge_count": (
        "issue 26: DPDAG(n_nodes=10**12).sample aborts the interpreter (XLA 'overflow in static extent product', exit -6) instead of a "
        "named error"
    ),
    "discovery.differentiable.transform_columns-nan": _TRANSFORM_PASSES + "a NaN in 'bmi' turns the whole rank-transformed column into NaN",
    "discovery.differentiable.transform_columns-inf": _TRANSFORM_PASSES + "+inf in 'bmi' is ranked as the largest value",
    "discovery.differentiable.transform_columns-neginf": _TRANSFORM_PASSES + "-inf in 'bmi' is ranked as the smallest value",
    "discovery.differentiable.transform_columns-string": _TRANSFORM_PASSES + "a column of strings is rank-transformed into numbers",
    "discovery.differentiable.transform_columns-categorical": _TRANSFORM_PASSES + (
        "a column of 'high' / 'low' labels is rank-transformed into numbers"
    ),
    "discovery.differentiable.transform_columns-wrong_type_frame": _TRANSFORM_PASSES + (
        "a dict where an array is expected: numpy AxisError 'axis 0 is out of bounds for array of dimension 0' leaks"
    ),
    "discovery.differentiable.transform_columns-bad_option": _TRANSFORM_PASSES + (
        "transform='no-such-option' is accepted and transforms nothing"
    ),
    "discovery.differentiable.break_cycles-nan": _BREAK_CYCLES + "a NaN weight (age -> bmi) silently drops the edge",
    "discovery.differentiable.break_cycles-inf": _BREAK_CYCLES + "an infinite weight (age -> bmi) is kept as an edge",
    "discovery.differentiable.break_cycles-non_square": _BREAK_CYCLES + "a 4 x 3 matrix is accepted and a graph returned",
    "discovery.differentiable.break_cycles-nodes_mismatch": _BREAK_CYCLES + (
        "3 names for a 4 x 4 matrix: IndexError 'list index out of range' leaks"
    ),
    "discovery.differentiable.break_cycles-wrong_type_frame": _BREAK_CYCLES + (
        "nested lists: TypeError 'list indices must be integers or slices, not tuple' leaks"
    ),
    "discovery.metrics.average_precision-nan": _AP_NONFINITE,
    "discovery.metrics.average_precision-inf": _AP_NONFINITE,
    "discovery.metrics.auroc-nan": _AP_NONFINITE,
    "discovery.metrics.auroc-inf": _AP_NONFINITE,
    "discovery.evaluation.summarise-duplicate_names": (
        "issue 26: a results table with two 'shd' columns: pandas' ValueError 'If using all scalar values, you must pass an index' leaks"
    ),
    "discovery.evaluation.summarise-wrong_type_frame": (
        "issue 26: a dict where the results table is expected: AttributeError \"'dict' object has no attribute 'columns'\" leaks"
    ),
    "discovery.plot_comparison-duplicate_names": _REPORT_DUPLICATES,
    "discovery.write_report-duplicate_names": _REPORT_DUPLICATES,
    "scm.skeleton_pdag-wrong_type_graph": _STR_GRAPH,
    "scm.dag_to_adjacency-cycle": (
        "issue 26: a graph with the cycle age -> dose -> bmi -> crp -> age is converted without an error (expected: CycleError)"
    ),
    "scm.dag_to_adjacency-wrong_type_graph": _STR_GRAPH,
    "scm.meek_rules-cycle": (
        "issue 26: a PDAG with the directed cycle age -> dose -> bmi -> crp -> age is returned unchanged without an error"
    ),
    "scm.dags_in_class-wrong_type_number": (
        "issue 26: limit='not-a-number': TypeError \"'>' not supported between instances of 'int' and 'str'\" leaks"
    ),
    "scm.choose_mechanisms-nan": _PHASE_NO_CHECK + "sklearn's ValueError 'Input y contains NaN.' leaks",
    "scm.choose_mechanisms-inf": _PHASE_NO_CHECK + "sklearn's ValueError 'Input y contains infinity ...' leaks",
    "scm.choose_mechanisms-neginf": _PHASE_NO_CHECK + "sklearn's ValueError 'Input y contains infinity ...' leaks",
    "scm.choose_mechanisms-string": _PHASE_NO_CHECK + "ValueError \"could not convert string to float: 's0'\" leaks",
    "scm.choose_mechanisms-categorical": _PHASE_NO_CHECK + "ValueError \"could not convert string to float: 'high'\" leaks",
    "scm.choose_mechanisms-duplicate_names": _PHASE_NO_CHECK + "two columns named 'bmi': KeyError 'dbp' leaks",
    "scm.choose_mechanisms-single_column": _PHASE_NO_CHECK + "a frame without the graph's nodes: KeyError 'bmi' leaks",
    "scm.choose_mechanisms-wrong_type_frame": _PHASE_NO_CHECK + (
        "a dict where a frame is expected: AttributeError \"'list' object has no attribute 'to_numpy'\" leaks"
    ),
    "scm.choose_mechanisms-missing_column": _PHASE_NO_CHECK + "a graph node missing from the data: KeyError 'bmi' leaks",
    "scm.fit_mechanism-inf": _PHASE_NO_CHECK + "numpy's LinAlgError 'SVD did not converge in Linear Least Squares' leaks",
    "scm.fit_mechanism-neginf": _PHASE_NO_CHECK + "numpy's LinAlgError 'SVD did not converge in Linear Least Squares' leaks",
    "scm.fit_mechanism-string": _PHASE_NO_CHECK + "ValueError \"could not convert string to float: 's0'\" leaks",
    "scm.fit_mechanism-categorical": _PHASE_NO_CHECK + "ValueError \"could not convert string to float: 'high'\" leaks",
    "scm.fit_mechanism-duplicate_names": _PHASE_NO_CHECK + "two columns named 'bmi': one is picked silently",
    "scm.fit_mechanism-single_column": _PHASE_NO_CHECK + "a frame without the node: KeyError 'crp' leaks",
    "scm.fit_mechanism-wrong_type_frame": _PHASE_NO_CHECK + (
        "a dict where a frame is expected: AttributeError \"'list' object has no attribute 'to_numpy'\" leaks"
    ),
    "scm.fit_mechanism-missing_column": _PHASE_NO_CHECK + "a parent missing from the data: KeyError 'bmi' leaks",
    "scm.fit_noise-nan": _PHASE_NO_CHECK + "the DataError 'Empirical noise needs at least one finite value' does not name the column 'bmi'",
    "scm.fit_noise-inf": _PHASE_NO_CHECK + "the DataError 'Empirical noise needs at least one finite value' does not name the column 'bmi'",
    "scm.fit_noise-neginf": _PHASE_NO_CHECK + (
        "the DataError 'Empirical noise needs at least one finite value' does not name the column 'bmi'"
    ),
    "scm.fit_noise-string": _PHASE_NO_CHECK + "ValueError \"could not convert string to float: 's0'\" leaks",
    "scm.fit_noise-categorical": _PHASE_NO_CHECK + "ValueError \"could not convert string to float: 'high'\" leaks",
    "scm.fit_noise-duplicate_names": _PHASE_NO_CHECK + "two columns named 'bmi': numpy's matmul ValueError leaks",
    "scm.fit_noise-single_column": _PHASE_NO_CHECK + "a frame without the node: KeyError 'crp' leaks",
    "scm.fit_noise-wrong_type_frame": _PHASE_NO_CHECK + (
        "a dict where a frame is expected: AttributeError \"'list' object has no attribute 'to_numpy'\" leaks"
    ),
    "scm.fit_noise-missing_column": _PHASE_NO_CHECK + "a parent missing from the data: KeyError 'bmi' leaks",
    "scm.SCM.counterfactual-huge_count": _HUGE,
    "scm.SCM.abduct-huge_count": _HUGE,
    "scm.SCM.predict-string": "issue 26: a string noise column: ValueError \"could not convert string to float: 's0'\" leaks",
    "scm.simulate.random_dag-huge_count": _HUGE,
    "scm.simulate.multi_environment-huge_count": _HUGE,
    "scm.simulate.draw_lagged_structure-huge_count": _HUGE,
    "estimators.effect-empty": "issue 26: an empty frame (0 rows): IndexError 'index 0 is out of bounds for axis 0 with size 0' leaks",
}

# cases that kill the interpreter today: run in a child process, so that the suite survives them
ISOLATED: set[str] = {"discovery.DPDAG-huge_count"}
