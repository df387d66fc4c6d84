"""Testing utilities: check_grads, assert_backends_agree, the op table, the pytest plugin."""
