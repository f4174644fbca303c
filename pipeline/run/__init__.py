"""The run: inputs found, articles sent through the stages by an engine, results cached and written."""
from .runner import Summary, discover, run

__all__ = ["Summary", "discover", "run"]
