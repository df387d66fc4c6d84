"""The interpreters, one per transform: eval (and the current-trace context), jvp, batching,
graph capture and reverse mode (backward_pass); and the helpers rules register themselves with
(ElementwiseBatchRule, linear_jvp)."""

__all__: list[str] = []   # import the interpreter modules by name (interpreters.eval, .jvp, ...)

