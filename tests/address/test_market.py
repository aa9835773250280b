import pytest

import geo3d
from geo3d.address import read_market
from geo3d.errors import FileFormatError, MissingFileError, SchemaError


def test_reads_sample():
    m = read_market(geo3d.datasets.get_path("market_toml"))
    assert m.name == "경동시장" and m.sido == "서울특별시" and m.scheme == "internal_road"
    assert m.interval_m == 20.0 and m.entrance_floor == 1
    assert len(m.aisles) == 10 and set(m.aisles["floor"]) == {1, 2}
    assert m.aisles.geometry.iloc[0].coords[0] == pytest.approx(m.principal_entrance)


def test_every_problem_at_once(tmp_path):
    p = tmp_path / "MARKET.toml"
    p.write_text('name = "경동 시장"\nsido = "서울특별시"\nscheme = "alley"\ninterval_m = -5\n'
                 'entrance_floor = 0\n[[aisles]]\nname = "aisle one"\nfloor = 1\nline = [[0, 0]]\n',
                 encoding="utf-8")
    with pytest.raises(SchemaError) as e:
        read_market(p)
    text = str(e.value)
    for part in ("sigungu", "parent_road", "parent_number", "scheme", "interval_m", "entrance_floor",
                 "aisle #1", "line", "spaces"):
        assert part in text, part
    assert len(e.value.problems) >= 8


def test_duplicate_aisle_names(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text('name = "가"\nsido = "서울특별시"\nsigungu = "동대문구"\nparent_road = "고산자로36길"\n'
                 'parent_number = "3"\n'
                 '[[aisles]]\nname = "가1통로"\nfloor = 1\nline = [[0, 0], [10, 0]]\n'
                 '[[aisles]]\nname = "가1통로"\nfloor = 1\nline = [[0, 5], [10, 5]]\n', encoding="utf-8")
    with pytest.raises(SchemaError, match="used twice"):
        read_market(p)


def test_bad_toml_and_missing(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text('name = "unclosed\n', encoding="utf-8")
    with pytest.raises(FileFormatError, match="not valid TOML"):
        read_market(p)
    with pytest.raises(MissingFileError):
        read_market(tmp_path / "nope.toml")


def test_aisles_optional(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text('name = "가"\nsido = "서울특별시"\nsigungu = "동대문구"\nparent_road = "고산자로36길"\n'
                 'parent_number = 3\n', encoding="utf-8")
    m = read_market(p)
    assert m.aisles is None and m.parent_number == "3"


# ------------------------------------------------------------------------------------------
# encodings (issue 12): a BOM is read; another encoding is named, not blamed on the syntax
# ------------------------------------------------------------------------------------------
_GOOD = ('name = "경동시장"\nsido = "서울특별시"\nsigungu = "동대문구"\nparent_road = "고산자로36길"\n'
         'parent_number = "3"\n')


def test_utf8_with_bom_is_read(tmp_path):
    p = tmp_path / "MARKET.toml"
    p.write_bytes(_GOOD.encode("utf-8-sig"))
    assert read_market(p).name == "경동시장"


@pytest.mark.parametrize(("encoding", "named"), [("cp949", "CP949"), ("euc-kr", "CP949"), ("utf-16", "UTF-16")])
def test_other_encodings_are_named(tmp_path, encoding, named):
    p = tmp_path / "MARKET.toml"
    p.write_bytes(_GOOD.encode(encoding))
    with pytest.raises(FileFormatError, match=rf"not UTF-8: it looks like {named}.*iconv") as e:
        read_market(p)
    assert "quotes and brackets" not in str(e.value)


def test_fuzz_market_toml_only_raises_geo3d_errors(tmp_path):
    """Any bytes, any TOML values: a Market, or a Geo3DError (no TypeError, no RecursionError)."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    from geo3d.errors import Geo3DError

    keys = ["name", "sido", "sigungu", "parent_road", "parent_number", "crs", "scheme", "interval_m",
            "principal_entrance", "entrance_floor", "aisles", "max_offset_m", "start", "first_sub",
            "basement_prefix", "floor", "line"]
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=12),
                        st.floats(allow_nan=True), st.sampled_from(["EPSG:5186", "지하", "given", "detail"]))
    values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(st.sampled_from(keys), inner, max_size=4)),
                          max_leaves=12)
    tables = st.dictionaries(st.sampled_from(keys), values, max_size=8)
    path = tmp_path / "MARKET.toml"

    def as_toml(value):
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k} = {as_toml(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(as_toml(v) for v in value) + "]"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
        if value is None:
            return '""'
        return repr(value)  # ints, floats, nan and inf are TOML as Python prints them

    @hypothesis.settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @hypothesis.given(data=tables, raw=st.binary(max_size=64), nested=st.integers(0, 1500))
    def run(data, raw, nested):
        text = "\n".join(f"{k} = {as_toml(v)}" for k, v in data.items())
        for body in (text.encode("utf-8"), raw, b"a = " + b"[" * nested + b"]" * nested):
            path.write_bytes(body)
            try:
                read_market(path)
            except Geo3DError:
                pass

    run()
