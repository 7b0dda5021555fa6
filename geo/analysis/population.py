"""Population models for coverage and accessibility: raster, points, census spread by area.

Three models, named per unit in every output (column ``population_model``):

``raster``
    A population raster (GeoTIFF; WorldPop's 100 m / 3 arc-second layout is the reference case)
    in any CRS, read with rasterio in row strips (windowed reads over the units' bounds only, so
    a province raster fits in memory).  Each cell counts at its centre: units are rasterised onto
    the raster's own grid (a cell belongs to the unit containing its centre), and the centres are
    transformed to the metric CRS of the analysis with pyproj.
``points``
    Population points (CSV lon/lat, GeoJSON, GeoPackage) in their own CRS (``--population-crs``,
    independent of the facilities' ``--crs``).
``census_uniform``
    The unit's census total spread evenly over its area: coarse (as many people per km² on the
    mountains as in town), flagged ``population_coarse`` in every output.  Used when no grid is
    given, and as the fallback (with a :class:`PopulationFallbackWarning`) for a unit in which a
    grid has no cells.

Where a model needs points (2SFCA demand, time to the nearest facility) and there is no grid,
the unit is sampled on a regular metric grid, each sample carrying an equal share of the census
population (:func:`census_sample`): a unit's population is never put at a single point.

Management zones the census lists without a county (Yongzhou's 永州经开区, 金洞管理区,
回龙圩管理区) are added to the county they lie in from ``data/management_zones.csv``
(:func:`add_management_zones`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from geo.crs import parse_crs, require_crs
from geo.errors import InputError
from geo.settings import DATA_DIR

__all__ = [
    "MANAGEMENT_ZONES_PATH",
    "MODELS",
    "PopulationFallbackWarning",
    "PopulationGrid",
    "add_management_zones",
    "assign_cells",
    "census_sample",
    "demand_points",
    "fallback_units",
    "grid_from_points",
    "is_raster",
    "load_zone_hosts",
    "read_population_raster",
    "sample_unit",
    "unit_index",
]

#: Population models, as named in the ``population_model`` column of every summary.
MODELS: tuple[str, ...] = ("raster", "points", "census_uniform")
#: Yongzhou's management zones and the county each lies in.
MANAGEMENT_ZONES_PATH: Path = DATA_DIR / "management_zones.csv"
#: Largest number of area samples per unit (the spacing grows for larger units).
MAX_SAMPLES = 40_000
_RASTER_SUFFIXES = (".tif", ".tiff")


class PopulationFallbackWarning(UserWarning):
    """A unit had no population-grid cells and fell back to the census spread by area."""


@dataclass(frozen=True)
class PopulationGrid:
    """Population at points (cell centres or samples) in one CRS.

    Attributes
    ----------
    x, y : ndarray
        Coordinates in ``crs``.
    population : ndarray
        People at each point (float, >= 0).
    crs : pyproj.CRS
        CRS of ``x`` and ``y``.
    model : str
        One of :data:`MODELS`.
    source : str
        Where the numbers come from (file name, census).
    unit_ids : tuple of str, optional
        Units the points were assigned to (``unit`` indexes this tuple).
    unit : ndarray of int, optional
        Index into ``unit_ids`` per point, -1 outside every unit.
    cells_per_unit : ndarray of int, optional
        Valid cells (zero-population cells included) per unit, for the fallback decision.
    unit_share : ndarray of float, optional
        Share of each unit's area inside the raster's extent (the rest has no cells, so its
        people are not counted).
    """

    x: NDArray
    y: NDArray
    population: NDArray
    crs: CRS
    model: str
    source: str
    unit_ids: tuple[str, ...] | None = None
    unit: NDArray | None = None
    cells_per_unit: NDArray | None = None
    unit_share: NDArray | None = None

    def __len__(self) -> int:
        """Return the number of points."""
        return len(self.x)

    def to_crs(self, crs: CRS | str) -> PopulationGrid:
        """Return the grid with coordinates transformed to ``crs`` (pyproj, always x/y)."""
        target = parse_crs(crs)
        if target == self.crs:
            return self
        tr = Transformer.from_crs(self.crs, target, always_xy=True)
        x, y = tr.transform(self.x, self.y)
        return replace(self, x=np.asarray(x), y=np.asarray(y), crs=target)

    def subset(self, mask: NDArray) -> PopulationGrid:
        """Return the points where ``mask`` is true (unit assignment dropped)."""
        return PopulationGrid(
            self.x[mask], self.y[mask], self.population[mask], self.crs, self.model, self.source
        )

    def to_gdf(self) -> gpd.GeoDataFrame:
        """Return the points as a GeoDataFrame with a ``population`` column."""
        return gpd.GeoDataFrame(
            {"population": self.population},
            geometry=gpd.points_from_xy(self.x, self.y),
            crs=self.crs,
        )


def grid_from_points(points: gpd.GeoDataFrame, *, source: str = "") -> PopulationGrid:
    """Turn population points into a :class:`PopulationGrid` (model ``points``).

    Parameters
    ----------
    points : GeoDataFrame
        Points with a ``population`` column and a CRS.
    source : str
        Label for reports.

    Returns
    -------
    PopulationGrid

    Raises
    ------
    CRSError
        When ``points`` has no CRS.
    InputError
        When the ``population`` column is missing.
    """
    crs = require_crs(points, name="population")
    if "population" not in points.columns:
        msg = f"population grid lacks a 'population' column: {list(points.columns)}"
        raise InputError(msg, field="population")
    geom = points.geometry.values
    return PopulationGrid(
        shapely.get_x(geom),
        shapely.get_y(geom),
        points["population"].to_numpy(dtype=float),
        crs,
        "points",
        source or "population points",
    )


def assign_cells(x: NDArray, y: NDArray, geoms: NDArray) -> NDArray:
    """Index of the polygon containing each point (-1 outside all; first polygon wins).

    Parameters
    ----------
    x, y : ndarray
        Point coordinates, same CRS as ``geoms``.
    geoms : ndarray of shapely polygons
        Units.

    Returns
    -------
    ndarray of int64
    """
    out = np.full(len(x), -1, dtype=np.int64)
    for k, geom in enumerate(geoms):
        minx, miny, maxx, maxy = geom.bounds
        cand = np.flatnonzero((out < 0) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        if len(cand):
            shapely.prepare(geom)
            out[cand[shapely.contains_xy(geom, x[cand], y[cand])]] = k
    return out


def _raster_window(src: object, units_r: gpd.GeoDataFrame) -> object:
    from rasterio.errors import WindowError
    from rasterio.windows import Window, from_bounds

    full = Window(0, 0, src.width, src.height)
    raw = from_bounds(*units_r.total_bounds, transform=src.transform)
    col0, row0 = math.floor(raw.col_off), math.floor(raw.row_off)
    col1 = math.ceil(raw.col_off + raw.width)
    row1 = math.ceil(raw.row_off + raw.height)
    win = Window(col0, row0, col1 - col0, row1 - row0)
    try:
        return win.intersection(full)
    except WindowError as exc:
        msg = "the population raster does not overlap the units: is its CRS right?"
        raise InputError(msg, file=Path(str(src.name)).name) from exc


def _strip_transform(t: object, win: object) -> object:
    """Affine of a window (rasterio's ``window_transform`` without its deprecated ``*``)."""
    from affine import Affine

    c = t.c + win.col_off * t.a + win.row_off * t.b
    f = t.f + win.col_off * t.d + win.row_off * t.e
    return Affine(t.a, t.b, c, t.d, t.e, f)


def _strip_cells(
    data: NDArray, labels: NDArray, nodata: float | None, transform: object, name: str
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Cells with people in one strip: centre x, y, population, unit index; valid labels."""
    valid = np.isfinite(data)
    if nodata is not None and not math.isnan(nodata):
        valid &= data != nodata
    if (data[valid] < 0).any():
        msg = "the population raster has negative cells that are not its nodata value"
        raise InputError(msg, file=name, field="band 1")
    ok = valid & (labels > 0)
    rows, cols = np.nonzero(ok & (data > 0))
    t = transform
    cx, cy = cols + 0.5, rows + 0.5
    x = t.c + cx * t.a + cy * t.b
    y = t.f + cx * t.d + cy * t.e
    return x, y, data[rows, cols].astype(float), labels[rows, cols] - 1, labels[ok]


def _concat_fields(parts: list[tuple[NDArray, ...]]) -> list[NDArray]:
    """Concatenate each field of the strips, freeing a field's pieces as soon as it is joined."""
    if not parts:
        return [np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int32)]
    fields = [list(f) for f in zip(*parts, strict=True)]
    parts.clear()
    out = []
    for i in range(len(fields)):
        out.append(np.concatenate(fields[i]))
        fields[i] = []
    return out


def _open_raster(path: Path) -> object:
    """Open the raster with rasterio; an unreadable file is an :class:`InputError`."""
    import rasterio

    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        msg = f"cannot read the population raster ({exc})"
        raise InputError(msg, file=path.name) from exc


def _read_strips(
    src: object,
    units_r: gpd.GeoDataFrame,
    *,
    n_units: int,
    band: int,
    strip_rows: int,
    file: str,
) -> tuple[list[tuple[NDArray, ...]], NDArray]:
    """Read the units' window strip by strip; return the cells per strip and cells per unit.

    ``counts[0]`` counts cells outside every unit, ``counts[k + 1]`` those of unit ``k``.
    """
    from rasterio.features import rasterize
    from rasterio.windows import Window

    shapes = [(g, k + 1) for k, g in enumerate(units_r.geometry.values)]
    win = _raster_window(src, units_r)
    parts: list[tuple[NDArray, ...]] = []
    counts = np.zeros(n_units + 1, dtype=np.int64)
    row_end = int(win.row_off + win.height)
    for row0 in range(int(win.row_off), row_end, strip_rows):
        strip = Window(win.col_off, row0, win.width, min(strip_rows, row_end - row0))
        data = src.read(band, window=strip)
        transform = _strip_transform(src.transform, strip)
        labels = rasterize(shapes, out_shape=data.shape, transform=transform, dtype="int32")
        *cells, valid = _strip_cells(data, labels, src.nodata, transform, file)
        counts += np.bincount(valid, minlength=n_units + 1)
        parts.append(tuple(cells))
    return parts, counts


def read_population_raster(
    path: str | Path,
    *,
    units: gpd.GeoDataFrame,
    unit_id: str = "adcode",
    band: int = 1,
    strip_rows: int = 4096,
) -> PopulationGrid:
    """Read a population raster (GeoTIFF, any CRS) over ``units``, cell by cell.

    Only the window covering the units is read, in strips of ``strip_rows`` rows.  Cells with
    nodata, NaN or 0 people are dropped; each other cell counts at its centre, in the unit that
    contains the centre (units rasterised onto the raster grid).

    Parameters
    ----------
    path : str or Path
        GeoTIFF of people per cell (WorldPop, GHS-POP, LandScan counts).
    units : GeoDataFrame
        Units with ``unit_id`` and a CRS.
    unit_id : str
        Id column.
    band : int
        Raster band.
    strip_rows : int
        Rows read at once.

    Returns
    -------
    PopulationGrid
        Model ``raster`` in the raster's CRS, with cells assigned to units.

    Raises
    ------
    InputError
        For an unreadable file, a raster without CRS, one that misses the units, or negative
        counts.
    CRSError
        When ``units`` has no CRS.
    """
    require_crs(units, name="units")
    path = Path(path)
    src = _open_raster(path)
    with src:
        if src.crs is None:
            msg = "the population raster has no CRS: save it with one (e.g. EPSG:4326)"
            raise InputError(msg, file=path.name)
        crs = CRS.from_user_input(src.crs.to_wkt())
        units_r = units.to_crs(crs)
        extent = shapely.box(*src.bounds)
        parts, counts = _read_strips(
            src, units_r, n_units=len(units), band=band, strip_rows=strip_rows, file=path.name
        )
    x, y, pop, unit = _concat_fields(parts)
    return PopulationGrid(
        x,
        y,
        pop,
        crs,
        "raster",
        f"population raster {path.name} ({crs.name})",
        unit_ids=tuple(units[unit_id].astype(str)),
        unit=unit,
        cells_per_unit=counts[1:],
        unit_share=_share_inside(units_r.geometry.values, extent),
    )


def _share_inside(geoms: NDArray, extent: shapely.Polygon) -> NDArray:
    """Share of each polygon's area inside ``extent`` (same CRS; 1 for empty polygons)."""
    area = shapely.area(geoms)
    inside = shapely.area(shapely.intersection(geoms, extent))
    return np.divide(inside, area, out=np.ones(len(area)), where=area > 0)


def is_raster(path: str | Path) -> bool:
    """Return True for a GeoTIFF path (``.tif``/``.tiff``)."""
    return Path(path).suffix.lower() in _RASTER_SUFFIXES


def sample_unit(geom: BaseGeometry, spacing_m: float) -> tuple[NDArray, NDArray]:
    """Regular sample of a polygon (metric CRS): centres of ``spacing_m`` cells inside it.

    The spacing grows so that there are at most :data:`MAX_SAMPLES` points; a polygon too small
    for any cell centre gets its representative point.

    Parameters
    ----------
    geom : shapely Polygon or MultiPolygon
        Unit in a metric CRS.
    spacing_m : float
        Cell size (m).

    Returns
    -------
    (ndarray, ndarray)
        x and y of the samples.
    """
    minx, miny, maxx, maxy = geom.bounds
    spacing = max(spacing_m, math.sqrt(max(geom.area, 1.0) / MAX_SAMPLES))
    gx, gy = np.meshgrid(
        np.arange(minx + spacing / 2, maxx, spacing), np.arange(miny + spacing / 2, maxy, spacing)
    )
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(geom, gx, gy)
    if not inside.any():
        point = geom.representative_point()
        return np.array([point.x]), np.array([point.y])
    return gx[inside], gy[inside]


def census_sample(
    units_m: gpd.GeoDataFrame,
    *,
    population_column: str = "population",
    unit_id: str = "adcode",
    spacing_m: float = 200.0,
) -> PopulationGrid:
    """Spread each unit's census total evenly over a regular sample of its area.

    Parameters
    ----------
    units_m : GeoDataFrame
        Units in a metric CRS with ``population_column`` (NaN counts as 0).
    population_column, unit_id : str
        Column names.
    spacing_m : float
        Sample spacing (m), see :func:`sample_unit`.

    Returns
    -------
    PopulationGrid
        Model ``census_uniform``; every sample of a unit carries the same share.
    """
    crs = require_crs(units_m, name="units")
    xs, ys, pops, ks = [], [], [], []
    totals = pd.to_numeric(units_m[population_column], errors="coerce").fillna(0.0).to_numpy()
    for k, (geom, total) in enumerate(zip(units_m.geometry.values, totals, strict=True)):
        sx, sy = sample_unit(geom, spacing_m)
        xs.append(sx)
        ys.append(sy)
        pops.append(np.full(len(sx), total / len(sx)))
        ks.append(np.full(len(sx), k, dtype=np.int64))
    return PopulationGrid(
        np.concatenate(xs),
        np.concatenate(ys),
        np.concatenate(pops),
        crs,
        "census_uniform",
        "census 2020 totals spread evenly over each unit's area",
        unit_ids=tuple(units_m[unit_id].astype(str)),
        unit=np.concatenate(ks),
        cells_per_unit=np.array([len(s) for s in xs]),
    )


def unit_index(grid: PopulationGrid, units_m: gpd.GeoDataFrame, unit_id: str) -> NDArray:
    """Return the unit index of each grid point (the grid's own assignment when it matches).

    Parameters
    ----------
    grid : PopulationGrid
        In the CRS of ``units_m``.
    units_m : GeoDataFrame
        Units.
    unit_id : str
        Id column.

    Returns
    -------
    ndarray of int64
    """
    if grid.unit is not None and grid.unit_ids == tuple(units_m[unit_id].astype(str)):
        return grid.unit
    return assign_cells(grid.x, grid.y, units_m.geometry.values)


#: Below this share of a unit's area under valid raster cells, the unit's figures say so.
PARTIAL_GRID_SHARE: Final = 0.9


def fallback_units(
    grid: PopulationGrid, unit: NDArray, names: list[str]
) -> tuple[NDArray, list[str]]:
    """Units in which the grid has no cells, or covers only part of the unit; warn naming them.

    Parameters
    ----------
    grid : PopulationGrid
        The grid.
    unit : ndarray
        Unit index per point.
    names : list of str
        Unit names, in unit order.

    Returns
    -------
    (ndarray of bool, list of str)
        Per unit, whether it falls back to the census; the note for each unit (the fallback,
        or how little of it the grid covers; empty when neither).
    """
    counts = (
        grid.cells_per_unit
        if grid.cells_per_unit is not None and len(grid.cells_per_unit) == len(names)
        else np.bincount(unit[unit >= 0], minlength=len(names))
    )
    empty = counts == 0
    note = f"no cells of {grid.source}: census spread by area instead (coarse)"
    notes = [note if e else "" for e in empty]
    if empty.any():
        listed = ", ".join(n for n, e in zip(names, empty, strict=True) if e)
        msg = f"{int(empty.sum())} unit(s) have no population-grid cells ({listed}): {note}"
        warnings.warn(msg, PopulationFallbackWarning, stacklevel=3)
    share = grid.unit_share
    if share is not None and len(share) == len(names):
        partial = ~empty & (share < PARTIAL_GRID_SHARE)
        for k in np.flatnonzero(partial):
            notes[k] = (
                f"{grid.source} covers only {share[k]:.0%} of the unit's area (the rest lies "
                "outside the raster): people there are not counted"
            )
        if partial.any():
            listed = "; ".join(f"{names[k]}: {notes[k]}" for k in np.flatnonzero(partial))
            warnings.warn(f"partial population grid: {listed}", PopulationFallbackWarning, 3)
    return empty, notes


def demand_points(
    units_m: gpd.GeoDataFrame,
    *,
    grid: PopulationGrid | gpd.GeoDataFrame | None = None,
    population_column: str = "population",
    unit_id: str = "adcode",
    spacing_m: float = 200.0,
) -> gpd.GeoDataFrame:
    """Demand points for 2SFCA: grid cells, or an area sample of units without cells.

    Parameters
    ----------
    units_m : GeoDataFrame
        Units in a metric CRS.
    grid : PopulationGrid or GeoDataFrame, optional
        Population grid; units without cells (all units when omitted) use
        :func:`census_sample`.
    population_column, unit_id : str
        Column names in ``units_m``.
    spacing_m : float
        Sample spacing for census units.

    Returns
    -------
    GeoDataFrame
        Points in the CRS of ``units_m`` with ``population``, ``unit_id`` (str) and
        ``population_model``; points outside every unit are dropped.
    """
    crs = require_crs(units_m, name="units")
    ids = units_m[unit_id].astype(str).to_numpy()
    frames = []
    use_census = np.ones(len(units_m), dtype=bool)
    if grid is not None:
        if isinstance(grid, gpd.GeoDataFrame):
            grid = grid_from_points(grid)
        grid = grid.to_crs(crs)
        unit = unit_index(grid, units_m, unit_id)
        use_census, _ = fallback_units(grid, unit, list(ids))
        keep = (unit >= 0) & ~use_census[np.maximum(unit, 0)]
        frames.append(_demand_frame(grid.subset(keep), ids[unit[keep]], crs))
    if use_census.any():  # sample only the units that need it
        census = census_sample(
            units_m[use_census],
            population_column=population_column,
            unit_id=unit_id,
            spacing_m=spacing_m,
        )
        own = ids[use_census][census.unit]
        frames.append(_demand_frame(census, own, crs))
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)


def _demand_frame(grid: PopulationGrid, ids: NDArray, crs: CRS) -> gpd.GeoDataFrame:
    gdf = grid.to_gdf().set_crs(crs, allow_override=True)
    gdf["unit_id"] = ids
    gdf["population_model"] = grid.model
    return gdf


def load_zone_hosts(path: str | Path | None = None) -> pd.DataFrame:
    """Read the management zones table (zones the census lists without a county).

    Parameters
    ----------
    path : str or Path, optional
        Default :data:`MANAGEMENT_ZONES_PATH`.

    Returns
    -------
    DataFrame
        ``name, city, population, host_adcode, host_county, basis, basis_reason, source``.
    """
    return pd.read_csv(path or MANAGEMENT_ZONES_PATH, dtype={"host_adcode": str})


def add_management_zones(
    units: gpd.GeoDataFrame,
    *,
    zones: pd.DataFrame | None = None,
    unit_id: str = "adcode",
    population_column: str = "population",
) -> gpd.GeoDataFrame:
    """Add each management zone's residents to the county it lies in, and say so.

    Parameters
    ----------
    units : GeoDataFrame
        Units with ``unit_id`` and ``population_column`` (census rows without the zones).
    zones : DataFrame, optional
        Default :func:`load_zone_hosts`.
    unit_id, population_column : str
        Column names.

    Returns
    -------
    GeoDataFrame
        A copy with ``population`` raised by the zones' residents and a ``population_note``
        column naming the zones added (with the basis of the host county).
    """
    zones = load_zone_hosts() if zones is None else zones
    out = units.copy()
    notes = out["population_note"].fillna("") if "population_note" in out else None
    notes = notes if notes is not None else pd.Series("", index=out.index)
    ids = out[unit_id].astype(str)
    for zone in zones.itertuples(index=False):
        hit = ids == str(zone.host_adcode)
        if not hit.any():
            continue
        out.loc[hit, population_column] = out.loc[hit, population_column] + zone.population
        text = (
            f"census total includes {zone.name} {int(zone.population):,} (management zone; "
            f"host county {zone.basis}, data/management_zones.csv)"
        )
        notes[hit] = [f"{n}; {text}" if n else text for n in notes[hit]]
    out["population_note"] = notes
    return out
