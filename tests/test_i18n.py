"""Page text, table headers and error messages in both languages."""

import pandas as pd
import pytest

from geo.errors import CRSError, InputError
from geo.web.i18n import COLUMN_LABELS, TEXT, error_text, localise_columns, text


def test_every_string_exists_in_both_languages():
    for key, (zh, en) in TEXT.items():
        assert zh and en, key
    for key, (zh, en) in COLUMN_LABELS.items():
        assert zh != key and en != key


def test_coverage_headers_are_localised():
    cols = ["covered_km2", "gaps", "largest_gap_km2", "minutes_p50", "minutes_p90"]
    zh = localise_columns(pd.DataFrame(columns=cols), "zh").columns.tolist()
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c) for c in zh)
    en = localise_columns(pd.DataFrame(columns=cols), "en").columns.tolist()
    assert en[0] == "Covered area (km²)"


@pytest.mark.parametrize(
    ("exc", "lang", "expected"),
    [
        (
            InputError("bad", file="f.csv", row=4, field="lon"),
            "zh",
            "输入有误（文件 f.csv，第 4 行，字段 lon）：bad",
        ),
        (InputError("bad", field="unit"), "en", "Input cannot be used (field unit): bad"),
        (CRSError("unknown datum"), "zh", "坐标系有误：unknown datum"),
    ],
)
def test_error_text(exc, lang, expected):
    assert error_text(exc, lang) == expected


def test_unknown_language():
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        text("title", "fr")
