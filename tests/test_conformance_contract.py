"""The contract checks of polyfunc.testing.conformance (Python scalar operands, reflected operators,
random kernels), run on every installed backend like the op-table suite."""
from polyfunc.testing.conformance.test_contract import *  # noqa: F401,F403
