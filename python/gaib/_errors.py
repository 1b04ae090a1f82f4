"""The exceptions of gaib. The native module raises these (and the built-ins ValueError,
TypeError, OSError and KeyboardInterrupt) after classifying each run-layer error once."""

from __future__ import annotations

__all__ = ["GaibError", "InvalidPortfolio", "InvalidRun", "Mismatch", "NotMergeable"]


class GaibError(RuntimeError):
    """Base class of gaib's own exceptions; raised as is for an internal failure (not the
    caller's fault: an overflow, a bug)."""


class InvalidPortfolio(GaibError, ValueError):
    """A portfolio or scenario was rejected: it does not parse, a field is invalid, or a
    referenced file (the loan tape) cannot be read.

    ``str(e)`` is the message ``gaib validate`` prints after ``error:``; ``errors`` lists every
    invalid field as ``(field path, value, reason)``, e.g.
    ``('deals["L-07"].principal', '-5', 'must be positive')`` (empty for a file that does not
    parse); ``lines`` has each as the CLI prints it (``file: path = value: reason``).
    """

    def __init__(self, message: str, errors: list[tuple[str, str, str]], lines: list[str]):
        super().__init__(message)
        self.message = message
        self.errors = [tuple(e) for e in errors]
        self.lines = list(lines)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable (Dask ships exceptions back from workers)
        return (type(self), (self.message, self.errors, self.lines))


class InvalidRun(GaibError, ValueError):
    """A run directory is missing, malformed, of another schema version, or its stored inputs
    changed since the run."""


class Mismatch(GaibError):
    """A re-run did not reproduce recorded results; ``differences`` names each differing
    field. (``gaib.reproduce`` returns them instead of raising.)"""

    def __init__(self, message: str, differences: list[str]):
        super().__init__(message)
        self.message = message
        self.differences = list(differences)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (type(self), (self.message, self.differences))


class NotMergeable(GaibError, ValueError):
    """Shards of a run cannot be merged: other inputs, seed or kind of run, or path ranges
    that are not adjacent."""
