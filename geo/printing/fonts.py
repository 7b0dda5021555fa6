"""The CJK font of printed maps: Noto Sans SC from the PyPI package ``pylopdf-fonts-zh-cn``.

No system font is assumed.  The package ships Noto Sans SC as an OpenType/CFF file; matplotlib
embeds CFF outlines under a TrueType font dictionary, which poppler flags as a type mismatch and
strict viewers may refuse.  :func:`cjk_font_path` therefore converts the outlines once to
TrueType quadratic curves (fontTools, which matplotlib already depends on) and caches the result
in matplotlib's cache folder; PDFs then embed a clean, subsetted ``CID TrueType`` font
(``pdf.fonttype`` 42, ``/FontFile2``).

Titles use a real bold weight: Noto Sans SC Bold (TrueType) from npm
``@expo-google-fonts/noto-sans-sc`` 0.4.3, vendored in ``geo/assets/fonts/`` (SIL OFL 1.1, see
``geo/assets/LICENSES.md``), subset with fontTools to Latin, punctuation, symbols and every
ideograph of the CJK Unified Ideographs block (U+4E00-U+9FFF).  It is registered under the same
family name, so ``fontweight="bold"`` selects it.
"""

from __future__ import annotations

import functools
import os
import tempfile
from importlib import metadata, resources
from pathlib import Path
from typing import Final

import matplotlib
from matplotlib import font_manager

from geo.settings import ASSETS_DIR

__all__ = [
    "CJK_FAMILY",
    "CJK_PACKAGE",
    "bold_font_path",
    "cjk_font_path",
    "register_cjk_font",
    "source_font_path",
]

#: Distribution and import name of the font package.
CJK_PACKAGE: Final[str] = "pylopdf-fonts-zh-cn"
_CJK_MODULE: Final[str] = "pylopdf_fonts_zh_cn"
_CJK_FILE: Final[str] = "NotoSansSC-Regular.otf"
#: Family name matplotlib knows the font by once registered.
CJK_FAMILY: Final[str] = "Noto Sans SC"
#: Largest deviation (font units of 1000/em) allowed when turning cubic curves into quadratics.
_CU2QU_MAX_ERR: Final[float] = 1.0
_BOLD_FILE: Final[Path] = ASSETS_DIR / "fonts" / "NotoSansSC-Bold.ttf"


def bold_font_path() -> Path:
    """Return the vendored Noto Sans SC Bold (TrueType outlines).

    Returns
    -------
    Path
        ``geo/assets/fonts/NotoSansSC-Bold.ttf``.

    Raises
    ------
    FileNotFoundError
        When the file is missing from the installation.
    """
    if not _BOLD_FILE.exists():
        msg = f"the bold CJK font is missing: expected {_BOLD_FILE} (reinstall the package)"
        raise FileNotFoundError(msg)
    return _BOLD_FILE


def source_font_path() -> Path:
    """Return the Noto Sans SC file shipped by ``pylopdf-fonts-zh-cn``.

    Returns
    -------
    Path
        The ``.otf`` file inside the installed package.

    Raises
    ------
    ModuleNotFoundError
        When the package is not installed.
    FileNotFoundError
        When the package lacks the font file.
    """
    try:
        root = resources.files(_CJK_MODULE)
    except ModuleNotFoundError as exc:
        msg = f"the CJK font package is not installed: pip install '{CJK_PACKAGE}'"
        raise ModuleNotFoundError(msg) from exc
    path = Path(str(root / _CJK_FILE))
    if not path.exists():
        msg = f"{CJK_PACKAGE} has no {_CJK_FILE} (looked in {path.parent})"
        raise FileNotFoundError(msg)
    return path


def _convert_to_truetype(src: Path, dst: Path) -> None:
    """Write ``src`` (OpenType/CFF) as a TrueType-outline font to ``dst`` (atomically)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(src))
    glyph_set = font.getGlyphSet()
    order = font.getGlyphOrder()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=_CU2QU_MAX_ERR, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxPoints",
        "maxContours",
        "maxCompositePoints",
        "maxCompositeContours",
        "maxComponentDepth",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    font.sfntVersion = "\x00\x01\x00\x00"
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=".tmp-", suffix=".ttf")
    os.close(fd)
    try:
        font.save(tmp)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@functools.cache
def cjk_font_path() -> Path:
    """Return a TrueType-outline Noto Sans SC, converting and caching it on first use.

    The converted file lives in matplotlib's cache folder, keyed by the package version and the
    source file size; the first call takes about 15 s, later calls are instant.  When the cache
    folder cannot be written the shipped OpenType file is returned instead (it renders, but
    embeds CFF outlines under a TrueType dictionary).

    Returns
    -------
    Path
        A ``.ttf`` file (or the source ``.otf`` as a fallback).
    """
    src = source_font_path()
    version = metadata.version(CJK_PACKAGE)
    cache = Path(matplotlib.get_cachedir()) / "hunan-geo-fonts"
    dst = cache / f"{src.stem}-{version}-{src.stat().st_size}.ttf"
    if dst.exists():
        return dst
    try:
        cache.mkdir(parents=True, exist_ok=True)
        _convert_to_truetype(src, dst)
    except OSError:
        return src
    return dst


@functools.cache
def _add_font() -> str:
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    font_manager.fontManager.addfont(str(bold_font_path()))
    return font_manager.FontProperties(fname=str(path)).get_name()


def register_cjk_font() -> str:
    """Register Noto Sans SC with matplotlib and make PDFs embed it as TrueType.

    Sets ``pdf.fonttype`` and ``ps.fonttype`` to 42, puts the family first in
    ``font.sans-serif`` (with the bold weight registered beside it) and turns mathtext off
    (``text.parse_math``), so user text such as ``湘S(2026)$001$号`` prints literally.
    Call it before drawing; it is idempotent.

    Returns
    -------
    str
        The family name to pass as ``fontfamily`` (``"Noto Sans SC"``).
    """
    family = _add_font()
    matplotlib.rcParams["pdf.fonttype"] = 42
    matplotlib.rcParams["ps.fonttype"] = 42
    sans = [f for f in matplotlib.rcParams["font.sans-serif"] if f != family]
    matplotlib.rcParams["font.sans-serif"] = [family, *sans]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["text.parse_math"] = False
    return family
