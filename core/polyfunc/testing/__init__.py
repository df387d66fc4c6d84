"""Testing utilities: check_grads, assert_backends_agree, the op table, the pytest plugin.

>>> from polyfunc.testing import check_grads, assert_backends_agree, to_numpy
"""
from .checks import (assert_backends_agree, check_grads, check_jvp, check_vjp, check_vjp_against_jvp,  # noqa: F401
                     default_tolerance, generic_batch_rules, numerical_jvp, to_numpy)

__all__ = ["check_grads", "check_jvp", "check_vjp", "check_vjp_against_jvp", "numerical_jvp",
           "assert_backends_agree", "to_numpy", "default_tolerance",
           "generic_batch_rules"]
