"""The conformance suite a backend author runs: pytest --pyargs polyfunc.testing.conformance --polyfunc-backend=NAME"""
