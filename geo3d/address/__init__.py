"""3D addresses (입체주소) for market stores and safety facilities (docs/addresses.md).

One public function per stage: :func:`read_market` (MARKET.toml), :func:`assign_addresses`
(numbering), :func:`validate_addresses` (every rule of docs/addresses.md), :func:`to_imdf` /
:func:`validate_imdf` (IMDF archive), :func:`to_osm_geojson` (OSM tags) and
:func:`write_addresses_csv`.
"""

from __future__ import annotations

from .assign import ADDRESS_COLUMNS, assign_addresses, orient_aisles
from .format import FACILITY_SUFFIX, floor_label, floor_ordinal, format_address, parse_address
from .market import Market, market_from_dict, read_market
from .validate import AddressError, AddressValidation, validate_addresses

__all__ = [
    "ADDRESS_COLUMNS",
    "FACILITY_SUFFIX",
    "AddressError",
    "AddressValidation",
    "Market",
    "assign_addresses",
    "floor_label",
    "floor_ordinal",
    "format_address",
    "market_from_dict",
    "orient_aisles",
    "parse_address",
    "read_market",
    "validate_addresses",
]
