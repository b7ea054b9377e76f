"""Errors that are the user's to fix: shown as located messages, never as a traceback."""

from __future__ import annotations


# Characters that would break a message over several lines, or hide part of it, in a terminal: each shown as an
# escape, so that a problem stays one line whatever a cell holds.
_ESCAPES = {**{code: f"\\x{code:02x}" for code in (*range(32), 127)}, ord("\n"): "\\n", ord("\r"): "\\r",
            ord("\t"): "\\t", 0x85: "\\x85", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped ("a\\nb" for a line break)."""
    return text.translate(_ESCAPES)


class UserError(Exception):
    """One or more problems in the user's input, each a complete one-line message.

    Messages about sheets follow ``FILE:ROW:COLUMN: what is wrong (got X, expected Y)``.
    """

    def __init__(self, problems: str | list[str] | tuple[str, ...]) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems = [one_line(problem) for problem in problems]
        super().__init__("\n".join(self.problems))
