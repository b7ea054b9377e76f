"""Errors that are the user's to fix: shown as located messages, never as a traceback."""

from __future__ import annotations


class UserError(Exception):
    """One or more problems in the user's input, each a complete one-line message.

    Messages about sheets follow ``FILE:ROW:COLUMN: what is wrong (got X, expected Y)``.
    """

    def __init__(self, problems: str | list[str] | tuple[str, ...]) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))
