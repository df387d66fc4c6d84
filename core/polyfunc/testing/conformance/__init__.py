"""The conformance suite a backend author runs: pytest --pyargs polyfunc.testing.conformance --polyfunc-backend=NAME"""

__all__: list[str] = []   # a pytest suite: run it with --pyargs

