import pytest

from geo3d.address.format import (
    check_road_name,
    floor_label,
    floor_ordinal,
    format_address,
    parse_address,
    unit_number,
)
from geo3d.errors import InputError


@pytest.mark.parametrize(("floor", "label", "ordinal"), [(1, "1층", 0), (2, "2층", 1), (-1, "지하1층", -1),
                                                         (-2, "지하2층", -2)])
def test_floors(floor, label, ordinal):
    assert floor_label(floor) == label
    assert floor_ordinal(floor) == ordinal


def test_no_floor_zero():
    with pytest.raises(InputError, match="floor 0"):
        floor_label(0)
    with pytest.raises(InputError):
        floor_ordinal(0)


@pytest.mark.parametrize("name", ["경동시장1통로", "잠실역중앙통로", "경동시장1.5통로"])
def test_good_road_names(name):
    assert check_road_name(name) == []


@pytest.mark.parametrize("name", ["경동시장 1통로", "Gyeongdong1", "", None, "경동-1"])
def test_bad_road_names(name):
    assert check_road_name(name)


def test_unit_numbers_start_with_floor_digit():
    assert unit_number(1, 1) == "101"
    assert unit_number(3, 12, ho=True) == "312호"
    assert unit_number(-1, 1) == "지하101"
    assert unit_number(-1, 1, basement_prefix="B", ho=True) == "B101호"


def test_format_and_parse_roundtrip():
    text = format_address("서울특별시", "동대문구", "경동시장1통로", "4", unit="101", suffix="자동심장충격기")
    assert text == "서울특별시 동대문구 경동시장1통로 4, 101 자동심장충격기"
    d = parse_address(text)
    assert (d["road"], d["number"], d["sub"], d["unit"], d["suffix"]) == ("경동시장1통로", 4, None, "101",
                                                                          "자동심장충격기")
    assert parse_address("서울특별시 동대문구 경동시장1통로 6-1 소화기")["sub"] == 1


@pytest.mark.parametrize("bad", ["서울특별시 동대문구 경동시장1통로 0", "서울특별시 동대문구 경동시장1통로",
                                 "서울특별시 동대문구 경동시장1통로 6 소화전2"])
def test_parse_rejects(bad):
    with pytest.raises(InputError):
        parse_address(bad)
