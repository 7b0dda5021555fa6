"""Population grid uploaded in the browser, read through the command line's validation.

The page hands over the uploaded bytes, the file name and the datum the user states; this module
writes them to a temporary file with the original name and reads it as ``--population-grid``
does: a GeoTIFF (any CRS) with :func:`geo.analysis.population.read_population_raster` over the
units, a points table (CSV/XLSX lon/lat/population, GBK from Chinese Excel included, in the stated
datum) or GeoJSON/GeoPackage with :func:`geo.analysis.coverage.read_population_points`.  The
coverage panel, the scenario and the siting tab then pass :attr:`PopulationUpload.grid` as their
``population``; a unit in which the grid has no cells falls back to the census with a
:class:`~geo.analysis.population.PopulationFallbackWarning`, collected here with
:func:`population_fallbacks` so the page can show it.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.facilities import PROBLEM_COLUMNS
from geo.analysis.population import (
    PopulationFallbackWarning,
    PopulationGrid,
    is_raster,
    read_population_raster,
)
from geo.errors import InputError
from geo.settings import MAX_UPLOAD_BYTES

__all__ = [
    "POPGRID_TYPES",
    "PopulationUpload",
    "population_fallbacks",
    "read_population_upload",
    "with_population_model",
]

#: File types offered by the page's population-grid uploader (without the dot).
POPGRID_TYPES: tuple[str, ...] = ("tif", "tiff", "csv", "xlsx", "geojson", "gpkg")


@dataclass(frozen=True)
class PopulationUpload:
    """A population grid read from an upload.

    Attributes
    ----------
    grid : PopulationGrid or GeoDataFrame
        What the coverage engine and the siting models take as ``population``: raster cells
        (model ``raster``) or WGS-84 points with a ``population`` column (model ``points``).
    model : str
        ``"raster"`` or ``"points"`` (as in the ``population_model`` column of the reports).
    source : str
        File name and how it was read (CRS, datum), for the page and the reports.
    cells : int
        Cells or points with people.
    total : float
        People in the grid (inside the units, for a raster).
    problems : DataFrame
        Rows of a table whose position could not be used (row as Excel shows it).
    """

    grid: PopulationGrid | gpd.GeoDataFrame
    model: str
    source: str
    cells: int
    total: float
    problems: pd.DataFrame


def read_population_upload(
    data: bytes, filename: str, *, units: gpd.GeoDataFrame, datum: str = "WGS84"
) -> PopulationUpload:
    r"""Read an uploaded population grid as ``--population-grid`` would.

    Parameters
    ----------
    data : bytes
        File content.
    filename : str
        Original name (its suffix picks the reader; only the name part is used).
    units : GeoDataFrame
        Units a raster is read over (only the window covering them; cells assigned to the unit
        containing their centre).
    datum : str
        Datum of a points table's lon/lat (``WGS84``, ``GCJ02``, ``BD09``, ``CGCS2000`` or
        ``EPSG:xxxx``, as ``--population-crs``); GeoTIFF, GeoJSON, GeoPackage use their own CRS.

    Returns
    -------
    PopulationUpload

    Raises
    ------
    InputError
        For an unsupported type, an oversized or empty file, a raster without CRS or outside the
        units, a missing or bad population value (file, row as Excel shows it, field), or a grid
        without people.
    CRSError
        For an unknown datum.

    Examples
    --------
    >>> from geo.data.boundaries import load_units
    >>> csv = "经度,纬度,population\n112.98,28.12,120\n112.99,28.11,80\n".encode("gbk")
    >>> up = read_population_upload(csv, "pop.csv", units=load_units(), datum="WGS84")
    >>> up.model, up.cells, up.total
    ('points', 2, 200.0)
    """
    name = Path(filename).name or "upload"
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in POPGRID_TYPES:
        msg = f"unsupported file type {'.' + suffix!r}: use .tif, .csv, .xlsx, .geojson or .gpkg"
        raise InputError(msg, file=name)
    if not data:
        msg = "the file is empty"
        raise InputError(msg, file=name)
    if len(data) > MAX_UPLOAD_BYTES:
        mb = MAX_UPLOAD_BYTES // (1024 * 1024)
        msg = f"file is {len(data):,} bytes, over the {mb} MB limit: clip it to the area needed"
        raise InputError(msg, file=name)
    with tempfile.TemporaryDirectory(prefix="geo-popgrid-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        if is_raster(path):
            return _raster_upload(path, units)
        return _points_upload(path, datum)


def _raster_upload(path: Path, units: gpd.GeoDataFrame) -> PopulationUpload:
    grid = read_population_raster(path, units=units)
    inside = grid.unit >= 0 if grid.unit is not None else np.ones(len(grid), dtype=bool)
    total = float(grid.population[inside].sum())
    if not inside.any() or total <= 0:
        msg = (
            "the population raster has no cells with people inside the counties: is its CRS right?"
        )
        raise InputError(msg, file=path.name, field="band 1")
    return PopulationUpload(
        grid,
        "raster",
        f"{grid.source}: cells at their centres (raster)",
        int(inside.sum()),
        total,
        pd.DataFrame(columns=list(PROBLEM_COLUMNS)),
    )


def _points_upload(path: Path, datum: str) -> PopulationUpload:
    from geo.analysis.coverage import read_population_points

    points, problems = read_population_points(path, crs=datum)
    people = points["population"].to_numpy()
    if not (people > 0).any():
        msg = "the population points hold no people (every population is 0)"
        raise InputError(msg, file=path.name, field="population")
    how = "its own CRS" if path.suffix.lower() in (".geojson", ".gpkg") else f"datum {datum}"
    return PopulationUpload(
        points,
        "points",
        f"population grid {path.name} as points ({how}, converted to WGS-84)",
        int((people > 0).sum()),
        float(people.sum()),
        problems,
    )


@contextmanager
def population_fallbacks() -> Iterator[list[str]]:
    """Collect the population fallback warnings raised in the block, instead of raising them.

    Yields
    ------
    list of str
        Filled when the block ends with the message of each
        :class:`~geo.analysis.population.PopulationFallbackWarning` (other warnings pass on).

    Examples
    --------
    >>> with population_fallbacks() as notes:
    ...     warnings.warn("no cells in 天心区", PopulationFallbackWarning, stacklevel=1)
    >>> notes
    ['no cells in 天心区']
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PopulationFallbackWarning)
        yield notes
    for w in caught:
        if issubclass(w.category, PopulationFallbackWarning):
            if str(w.message) not in notes:
                notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def with_population_model(table: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Add the ``population_model`` of each unit (from a coverage summary) to a per-unit table.

    Parameters
    ----------
    table : DataFrame
        Rows in the order of ``summary`` (e.g. :attr:`ScenarioResult.diff`).
    summary : DataFrame
        Coverage summary with ``population_model``.

    Returns
    -------
    DataFrame
        A copy with ``population_model`` last.
    """
    return table.assign(population_model=summary["population_model"].to_numpy())
