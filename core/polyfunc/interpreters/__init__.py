"""The transform interpreters: jvp, batching, graph capture, reverse mode."""
