"""Refusals: the domain's "no", as a fact about the request, never an HTTP
status. Every verb that declines raises one of these with a Japanese message
shown to the person as is (and, where it concerns one input, that field's
name); the request boundary (``portal/errors.py``) chooses the answer:
404 for ``NotFound``, 403 for ``NotAllowed``, 409 for ``WrongState`` and a
plain ``Refused``, 422 for ``Invalid``.
"""
from __future__ import annotations


class Refused(Exception):
    """The domain declines; ``message`` says why, ``field`` which input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(Refused):
    """No such thing here (a stage the call does not have, a removed item)."""


class NotAllowed(Refused):
    """This person may not do this, or not now (a conflict, a closed window)."""


class WrongState(Refused):
    """The thing is not in a state that allows it (already submitted,
    changed meanwhile)."""


class Invalid(Refused):
    """The input cannot be accepted as it is."""
