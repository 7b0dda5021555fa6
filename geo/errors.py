"""Exceptions of the ``geo`` package.

All are subclasses of built-in exceptions so callers may catch ``ValueError`` as usual; the
message always names the file, row and field (or the argument) and what was received.
"""

from __future__ import annotations

__all__ = ["CRSError", "GeoDataError", "InputError", "LayoutError"]


class GeoDataError(ValueError):
    """A data file (CSV, GeoJSON, layer) is malformed.

    Parameters
    ----------
    message : str
        What is wrong and what to do about it.
    file : str, optional
        File the problem is in.
    row : int, optional
        1-based data row (the header is row 0), when the problem is in one row.
    field : str, optional
        Column or property name.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.detail = message
        where = [part for part in (file, f"row {row}" if row is not None else None) if part]
        if field:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class CRSError(ValueError):
    """A coordinate reference system is missing, unknown or mismatched."""


class InputError(GeoDataError):
    """User input (an upload, a CLI argument) cannot be used as given."""


class LayoutError(ValueError):
    """Layout geometry cannot be built as the sources describe (e.g. an unreachable area)."""
