"""Scenarios on the page: proposed sites clicked on the map, existing facilities closed.

Before/after coverage comes from :func:`geo.analysis.coverage.scenario_report` for the selected
unit, and the downloads are the command line's reports (:func:`geo.analysis.report.write_reports`),
so the page and ``python -m geo coverage`` give the same XLSX/HTML for the same inputs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import shapely

from geo.analysis.coverage import CoverageResult, ScenarioResult, reach_for, scenario_report
from geo.analysis.population import PopulationGrid
from geo.errors import InputError
from geo.settings import WGS84
from geo.web.search import find_unit

__all__ = ["proposed_sites", "report_files", "run_scenario"]


def proposed_sites(clicks: Sequence[tuple[float, float]]) -> gpd.GeoDataFrame:
    """Proposed facilities from map clicks.

    Parameters
    ----------
    clicks : sequence of (lat, lon)
        WGS-84 degrees, as Leaflet reports a click.

    Returns
    -------
    GeoDataFrame
        ``id`` (``new1`` ...), ``name`` (``拟建1`` ...), ``precision`` ``"surveyed"`` (the
        user placed it), geometry; WGS-84.

    Raises
    ------
    InputError
        For a position outside longitude/latitude ranges.

    Examples
    --------
    >>> proposed_sites([(28.2, 112.9)])[["id", "name"]].values.tolist()
    [['new1', '拟建1']]
    """
    for lat, lon in clicks:
        if not (abs(lat) <= 90 and abs(lon) <= 180):
            msg = f"a clicked position must be lat/lon degrees, got ({lat}, {lon})"
            raise InputError(msg, field="clicks")
    n = len(clicks)
    return gpd.GeoDataFrame(
        {
            "id": [f"new{i + 1}" for i in range(n)],
            "name": [f"拟建{i + 1}" for i in range(n)],
            "precision": ["surveyed"] * n,
        },
        geometry=[shapely.Point(lon, lat) for lat, lon in clicks],
        crs=WGS84,
    )


def run_scenario(
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    unit: str,
    *,
    add: gpd.GeoDataFrame | None = None,
    remove: Sequence[str] = (),
    mode: str = "walk",
    minutes: float = 15.0,
    speed_kmh: float | None = None,
    sources: dict[str, str] | None = None,
    population: PopulationGrid | gpd.GeoDataFrame | None = None,
) -> ScenarioResult:
    """Coverage of one unit before and after adding and closing facilities.

    Parameters
    ----------
    facilities : GeoDataFrame
        Current facilities with an ``id`` column.
    units : GeoDataFrame
        Units with ``adcode``, ``name``, ``population``.
    unit : str
        Adcode or name of the unit reported.
    add : GeoDataFrame, optional
        Proposed sites (:func:`proposed_sites`).
    remove : sequence of str
        Ids of facilities to close.
    mode, minutes, speed_kmh
        As in :func:`geo.analysis.coverage.reach_for`.
    sources : dict, optional
        Source labels for the report.
    population : PopulationGrid or GeoDataFrame, optional
        Population grid (raster cells or points); default the census spread by area.  A unit
        without cells falls back to the census with a
        :class:`~geo.analysis.population.PopulationFallbackWarning`.

    Returns
    -------
    ScenarioResult

    Raises
    ------
    InputError
        For an unknown unit or facility id, or when nothing would remain.
    """
    target = find_unit(units, unit)
    reach = reach_for(mode, minutes=minutes, speed_kmh=speed_kmh)
    fac = facilities.to_crs(target.crs)
    extra = add.to_crs(target.crs) if add is not None and not add.empty else None
    if extra is not None:
        clash = sorted(set(extra["id"]) & set(fac["id"].astype(str)))
        if clash:
            msg = f"proposed site ids already exist: {clash}"
            raise InputError(msg, field="add")
    return scenario_report(
        fac,
        target,
        add=extra,
        remove=list(remove),
        reach=reach,
        sources=sources or {},
        population=population,
    )


def report_files(
    result: CoverageResult,
    *,
    units: gpd.GeoDataFrame | None = None,
    scenario: ScenarioResult | None = None,
    problems=None,
) -> dict[str, bytes]:
    """Write the command line's XLSX and HTML reports and the reach GeoJSON, as bytes.

    Parameters
    ----------
    result : CoverageResult
        Coverage reported (the scenario's ``after`` when there is a scenario).
    units : GeoDataFrame, optional
        Unit outlines for the report map.
    scenario : ScenarioResult, optional
        Adds the before/after sheet and section.
    problems : DataFrame, optional
        Input rows not used.

    Returns
    -------
    dict
        ``{"xlsx": ..., "html": ..., "geojson": ...}``.
    """
    from geo.analysis.report import write_reports  # local: matplotlib is only needed for downloads

    with tempfile.TemporaryDirectory(prefix="geo-report-") as tmp:
        written = write_reports(
            result,
            tmp,
            formats=["xlsx", "html", "geojson"],
            units=units,
            scenario=scenario,
            problems=problems,
        )
        return {fmt: Path(path).read_bytes() for fmt, path in written.items()}
