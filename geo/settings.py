"""Project settings: paths, coordinate systems, styles and defaults in one place.

Everything that would otherwise be a literal scattered through the code lives here, typed and
documented.  Nothing in this module touches the file system at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "ASSETS_DIR",
    "BOUNDARIES_DIR",
    "CITY_ADCODES",
    "COORD_DECIMALS",
    "DATA_DIR",
    "DATUMS",
    "DEFAULT_MINUTES",
    "GK_ZONES",
    "HUNAN_ADCODE",
    "HUNAN_BBOX",
    "KIND_NAMES",
    "LAYERS_DIR",
    "MANIFEST_PATH",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_ROWS",
    "MODE_SPEEDS",
    "PLANS_DIR",
    "PRECISION_CLASSES",
    "PRECISION_METRES",
    "ROOT",
    "SIMPLIFY_TOLERANCE_M",
    "UTM49N",
    "WGS84",
    "ModeSpeed",
]

#: Repository root (the folder holding ``geo/``, ``data/`` and ``layers/``).
ROOT: Final[Path] = Path(__file__).resolve().parent.parent
#: Source data with provenance (see ``data/SOURCES.md``).
DATA_DIR: Final[Path] = ROOT / "data"
#: Verbatim plan texts every quote is checked against.
PLANS_DIR: Final[Path] = DATA_DIR / "plans"
#: County, city and province outlines (WGS-84, converted from GCJ-02 on extraction).
BOUNDARIES_DIR: Final[Path] = DATA_DIR / "boundaries"
#: Generated, committed GeoJSON layers the map and the print show.
LAYERS_DIR: Final[Path] = ROOT / "layers"
#: Layer index: names, groups, styles, descriptions (one source for web and print legends).
MANIFEST_PATH: Final[Path] = LAYERS_DIR / "manifest.json"
#: Static assets served locally (Leaflet and plugins), so the map needs no CDN.
ASSETS_DIR: Final[Path] = ROOT / "geo" / "assets"

#: Storage CRS of every layer (RFC 7946 GeoJSON is WGS-84 longitude/latitude).
WGS84: Final[str] = "EPSG:4326"
#: CGCS2000 3-degree Gauss-Kruger zones (central meridian in degrees east -> EPSG code).
#: Hunan spans 108.8-114.3 E, so the zones on 108, 111 and 114 E cover it.
GK_ZONES: Final[dict[int, str]] = {108: "EPSG:4545", 111: "EPSG:4546", 114: "EPSG:4547"}
#: WGS 84 / UTM zone 49N (108-114 E): the fallback for province-wide metric work.
UTM49N: Final[str] = "EPSG:32649"

#: Hunan's bounding box (lon_min, lat_min, lon_max, lat_max), WGS-84, with a small margin.
HUNAN_BBOX: Final[tuple[float, float, float, float]] = (108.7, 24.6, 114.3, 30.2)
#: Province adcode.
HUNAN_ADCODE: Final[str] = "430000"
#: The two cities this product maps in detail: adcode -> name.
CITY_ADCODES: Final[dict[str, str]] = {"430100": "长沙市", "431100": "永州市"}

#: Position precision classes, best first, with the largest error each allows (metres).
PRECISION_METRES: Final[dict[str, float | None]] = {
    "surveyed": 50.0,
    "geocoded": 500.0,
    "approximate": 5000.0,
    "schematic": None,
}
PRECISION_CLASSES: Final[tuple[str, ...]] = tuple(PRECISION_METRES)
#: Datums accepted for point positions in source files.
DATUMS: Final[tuple[str, ...]] = ("WGS84", "GCJ02", "BD09", "CGCS2000")

#: Simplification tolerance (metres, in the metric CRS) of boundary layers shipped to the map.
SIMPLIFY_TOLERANCE_M: Final[float] = 30.0
#: Decimal places of coordinates written to layers (1e-6 deg is about 0.1 m).
COORD_DECIMALS: Final[int] = 6

#: Largest user upload accepted (bytes) and rows read from it.
MAX_UPLOAD_BYTES: Final[int] = 50 * 1024 * 1024
MAX_UPLOAD_ROWS: Final[int] = 200_000


@dataclass(frozen=True)
class ModeSpeed:
    """A travel mode's default speed and where the figure comes from.

    Parameters
    ----------
    kmh : float
        Speed in kilometres per hour.
    label_zh, label_en : str
        Display names.
    source : str
        Citation for the default.
    source_zh : str
        The citation in Chinese, for the Chinese page.
    """

    kmh: float
    label_zh: str
    label_en: str
    source: str
    source_zh: str = ""

    def source_in(self, lang: str) -> str:
        """Return the citation in ``lang`` (``"zh"`` or ``"en"``).

        >>> MODE_SPEEDS["walk"].source_in("zh")[:13]
        'GB 50180-2018'
        """
        return self.source_zh if lang == "zh" and self.source_zh else self.source


#: Default speeds per mode (overridable everywhere a mode is accepted).
MODE_SPEEDS: Final[dict[str, ModeSpeed]] = {
    "walk": ModeSpeed(
        4.0,
        "步行",
        "walk",
        "GB 50180-2018 城市居住区规划设计标准: 15-minute walking life circle of 800-1000 m "
        "radius, i.e. about 4 km/h",
        "GB 50180-2018《城市居住区规划设计标准》：15分钟步行生活圈半径800—1000米，约合4公里/小时",
    ),
    "bike": ModeSpeed(
        12.0,
        "骑行",
        "bike",
        "CJJ 37-2012 / common planning practice: urban cycling 10-15 km/h; 12 km/h used",
        "CJJ 37-2012 及规划惯例：城市骑行10—15公里/小时，取12公里/小时",
    ),
    "drive": ModeSpeed(
        30.0,
        "驾车",
        "drive",
        "GB 50220 urban road design: mean urban driving speed about 30 km/h including delays",
        "GB 50220 城市道路设计：城市平均行车速度约30公里/小时（含延误）",
    ),
}
#: Default reach in minutes (the plans' 15分钟就医圈).
DEFAULT_MINUTES: Final[float] = 15.0
#: Reader-facing names of the feature kinds used in ``data/`` (Chinese, English); tables, popups
#: and printed place lists show these instead of the ids.
KIND_NAMES: Final[dict[str, tuple[str, str]]] = {
    "bio_centre": ("生物经济中心（两心）", "Bio-economy centre"),
    "bio_valley": ("生物经济谷（两谷）", "Bio-economy valley"),
    "bio_wing": ("生物经济翼（两翼）", "Bio-economy wing"),
    "bio_zone": ("生物经济区（两区）", "Bio-economy zone"),
    "carrier": ("载体", "Carrier"),
    "city_hospital": ("市级医院", "City hospital"),
    "city_regional_centre": ("市级区域医疗中心", "City regional medical centre"),
    "city_regional_centre_to_county_sub_centre": ("区域医疗中心—副中心", "Centre to sub-centre"),
    "city_tcm_centre": ("市级中医医疗中心", "City TCM centre"),
    "city_tcm_centre_to_tcm_sub_centre": ("中医医疗中心—中医副中心", "TCM centre to sub-centre"),
    "cluster": ("集聚区", "Cluster"),
    "core": ("核心（国家医学中心）", "Core (National Medical Centre)"),
    "county_hospital": ("县级医院", "County hospital"),
    "county_sub_centre": ("市域医疗卫生副中心", "County sub-centre"),
    "goal": ("规划目标（未建成）", "Plan goal (not built)"),
    "health_industry_zone": ("健康产业集聚区", "Health-industry zone"),
    "herb_market": ("中药材交易市场", "Herb market"),
    "hospital": ("医院", "Hospital"),
    "industry_belt": ("健康特色产业带", "Industry belt"),
    "kangyang_base": ("康养基地", "Wellness base"),
    "leisure_base": ("体育休闲旅游基地", "Sports-tourism base"),
    "national_medical_centre": ("国家医学中心", "National medical centre"),
    "park": ("专业园区", "Park"),
    "platform": ("平台", "Platform"),
    "project": ("项目", "Project"),
    "provincial_regional_centre": ("省域区域医疗中心", "Provincial regional medical centre"),
    "public_health": ("公共卫生机构", "Public health"),
    "regional_medical_centre": ("国家区域医疗中心", "National regional medical centre"),
    "ring": ("圈层（一核三圈）", "Ring"),
    "specialist_centre": ("市级专科中心", "Specialist centre"),
    "specialist_hospital": ("专科医院", "Specialist hospital"),
    "sports_base": ("体育产业基地", "Sports industry base"),
    "sports_belt": ("体育产业带", "Sports belt"),
    "sports_park": ("体育公园", "Sports park"),
    "sports_tourism_belt": ("体育旅游带", "Sports-tourism belt"),
    "subarea": ("重点片区", "Key sub-area"),
    "tcm_hospital": ("中医医院", "TCM hospital"),
    "tcm_sub_centre": ("市中医医疗副中心", "TCM sub-centre"),
    "trail": ("步道", "Trail"),
    "university": ("高校", "University"),
}
