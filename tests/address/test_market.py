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
