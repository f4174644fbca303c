"""The run: inputs found, articles sent through the stages by an engine, results cached and written."""
from .errors import RunError
from .inputs import discover
from .runner import Summary, run

__all__ = ["RunError", "Summary", "discover", "run"]
