"""The conformance checks the Dask backend is known not to pass, each with the reason."""
from __future__ import annotations

CONFORMANCE_GAPS: dict[str, str] = {}
