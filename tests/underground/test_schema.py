"""Canonical schema and code tables (geo3d.underground.schema)."""

from __future__ import annotations

import pandas as pd

from geo3d.underground import schema


def test_canonical_columns_match_underground_md():
    expected = [
        "utility", "source_layer", "source_id", "agency", "diameter_mm", "width_mm", "height_mm",
        "material", "material_raw", "install_year", "depth_m", "depth_start_m", "depth_end_m",
        "depth_reference", "depth_kind", "depth_unknown", "accuracy_h_m", "accuracy_v_m",
        "quality_level", "pressure", "voltage_kv", "geometry",
    ]
    assert list(schema.CANONICAL_COLUMNS) == expected
    assert schema.CANONICAL_COLUMNS["install_year"] == "Int64"
    assert schema.UTILITIES == ("water", "sewer", "power", "telecom", "gas", "heat")


def test_layer_mappings_cover_the_six_uis_layers():
    utilities = {m["utility"] for m in schema.LAYER_MAPPINGS.values()}
    assert utilities == set(schema.UTILITIES)
    for name, m in schema.LAYER_MAPPINGS.items():
        assert m["depth_reference"] in schema.DEPTH_REFERENCES, name
        assert m["depth_kind"] in schema.DEPTH_KINDS, name
        for role in m["fields"]:
            assert role in schema.CANONICAL_COLUMNS or role in schema.PARSED_ROLES, (name, role)
        assert set(m["required"]) <= set(m["fields"].values()), name


def test_every_code_maps_to_a_normalised_material():
    assert set(schema.MATERIAL_CODES.values()) <= set(schema.MATERIALS)
    assert set(schema.MATERIAL_LOOKUP.values()) <= set(schema.MATERIALS)


def test_generator_codes_are_known():
    """Every mop_cde the sample generator writes has a normalised name."""
    from geo3d.datasets.underground import CODE_TABLES

    names = schema.normalise_material(list(CODE_TABLES["mop_cde"]))
    assert names.notna().all(), dict(zip(CODE_TABLES["mop_cde"], names, strict=True))


def test_messy_strings_normalise():
    raw = ["CIP", "TJDCI", "STEEL ID", "TRANSITE", "PLASTIC BLUE BRUTE", " mjci ", "Bell & Hub"]
    assert schema.normalise_material(raw).tolist() == [
        "cast_iron", "ductile_iron", "steel", "asbestos_cement", "pvc", "cast_iron", "cast_iron",
    ]


def test_normalise_keeps_index_and_extra_wins():
    s = pd.Series(["DIP", None, "XYZ"], index=[10, 11, 12])
    out = schema.normalise_material(s, extra={"xyz": "other", "DIP": "cast_iron"})
    assert out.index.tolist() == [10, 11, 12]
    assert out.tolist()[0] == "cast_iron"
    assert pd.isna(out[11])
    assert out[12] == "other"


def test_user_can_add_a_lookup_entry(monkeypatch):
    monkeypatch.setitem(schema.MATERIAL_LOOKUP, "TTE", "other")
    assert schema.normalise_material(["tte"]).tolist() == ["other"]
