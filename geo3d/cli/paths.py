"""``geo3d locate``, ``where``, ``route`` and ``evacuation``: queries on a ``geo3d scan`` output folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .main import claim_outputs, cli, verbosity_options

__all__ = ["evacuation_command", "locate_command", "route_command", "where_command"]

_SCAN = click.option("--scan", "scan_dir", required=True, type=click.Path(path_type=Path),
                     help="A `geo3d scan` output folder (objects.gpkg, paths.gpkg).")
_MARKET = click.option("--market", "market_path", type=click.Path(path_type=Path), default=None,
                       help="MARKET.toml whose [[connectors]] / [[exits]] to use (rebuilds the network).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def _open(scan_dir: Path, market_path: Path | None) -> Any:
    from ..address.market import read_market
    from ..indoor.routes import open_scan_paths

    market = read_market(market_path) if market_path is not None else None
    return open_scan_paths(scan_dir, market=market)


def _echo(rec: dict[str, Any], as_json: bool, text: str) -> None:
    click.echo(json.dumps(rec, ensure_ascii=False, indent=2) if as_json else text)


@cli.command("locate")
@verbosity_options
@_SCAN
@_MARKET
@_JSON
@click.argument("address")
def locate_command(scan_dir: Path, market_path: Path | None, as_json: bool, address: str) -> None:
    """Address → position: floor, x, y, z and the object (spacing in ADDRESS is free)."""
    from ..indoor.routes import locate

    r = locate(_open(scan_dir, market_path), address)
    _echo(r, as_json, f"{r['address']}\t{r['kind']} {r['object_id'] if r['object_id'] is not None else ''}\t"
                      f"{r['floor_label']}\tx={r['x']:.3f} y={r['y']:.3f} z={r['z']:.3f}")


@cli.command("where")
@verbosity_options
@_SCAN
@_MARKET
@_JSON
@click.option("--floor", type=int, default=None, help="Floor number (1 = 1층, -1 = 지하1층); default 1층.")
@click.option("--radius", type=float, default=3.0, show_default=True,
              help="Farthest an object may be to be named (m).")
@click.argument("x", type=float)
@click.argument("y", type=float)
def where_command(scan_dir: Path, market_path: Path | None, as_json: bool, floor: int | None, radius: float,
                  x: float, y: float) -> None:
    """Position (X Y in the scan's CRS) → the nearest address, and the path address there."""
    from ..indoor.routes import where

    r = where(_open(scan_dir, market_path), x, y, floor=floor, radius=radius)
    _echo(r, as_json, f"{r['address'] or '(no object within ' + str(radius) + ' m)'}\t{r['floor_label']}\t"
                      f"path: {r['path_address']}")


@cli.command("route")
@verbosity_options
@_SCAN
@_MARKET
@_JSON
@click.option("--from", "origin", required=True, help="An address, or 'X,Y[,FLOOR]'.")
@click.option("--to", "destination", required=True,
              help="An address, 'X,Y[,FLOOR]', or nearest:KIND (exit, aed, fire_extinguisher, indoor_hydrant, "
                   "fire_alarm, other_facility, stairs, lift).")
@click.option("--agent", default="pedestrian", show_default=True,
              type=click.Choice(["pedestrian", "wheelchair"]), help="wheelchair: no stairs or escalators.")
def route_command(scan_dir: Path, market_path: Path | None, as_json: bool, origin: str, destination: str,
                  agent: str) -> None:
    """Shortest walking route with its length, time and Korean turn-by-turn steps."""
    from ..indoor.routes import route

    r = route(_open(scan_dir, market_path), origin, destination, agent=agent)
    text = "\n".join([f"{r.to_address}: {r.length_m:.0f} m, 약 {max(1, round(r.time_s / 60))}분 ({agent})",
                      *[f"  {i}. {s['text']}" for i, s in enumerate(r.steps)]])
    _echo(r.to_dict(), as_json, text)


@cli.command("evacuation")
@verbosity_options
@_SCAN
@_MARKET
@_JSON
@click.option("--structure", default="general", show_default=True, type=click.Choice(["general", "fire_resistant"]),
              help="Main structure (주요구조부) fire-resistant or non-combustible: limits 50/100 m instead of 30/60 m.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Write every store's route: .gpkg, .geojson or .csv.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out file.")
def evacuation_command(scan_dir: Path, market_path: Path | None, as_json: bool, structure: str,
                       out_path: Path | None, overwrite: bool) -> None:
    """Every store's walking distance to its nearest exit; the stores over the legal limit."""
    from ..errors import OptionError
    from ..indoor.evacuation import evacuation_routes
    from ..io.atomic import atomic_path

    if out_path is not None:
        if out_path.suffix.lower() not in (".gpkg", ".geojson", ".csv"):
            msg = f"--out {out_path}: use a .gpkg, .geojson or .csv file name"
            raise OptionError(msg)
        claim_outputs(out_path, overwrite=overwrite)
    p = _open(scan_dir, market_path)
    ev = evacuation_routes(p.network, structure=structure)
    routes = ev.routes.set_crs(p.levels.crs, allow_override=True)
    if out_path is not None:
        with atomic_path(out_path, overwrite=overwrite) as tmp:
            if out_path.suffix.lower() == ".csv":
                df = routes.drop(columns="geometry").assign(wkt=routes.geometry.to_wkt())
                df.to_csv(tmp, index=False, encoding="utf-8")
            else:
                gpkg = out_path.suffix.lower() == ".gpkg"
                routes[routes.geometry.notna()].to_file(tmp, driver="GPKG" if gpkg else "GeoJSON",
                                                        **({"layer": "evacuation"} if gpkg else {}))
    s = ev.to_dict()
    over = s["over_limit"]
    lines = [f"{s['reachable']} of {s['stores']} stores reach an exit; longest walk {s['max_distance_m']} m; "
             f"{len(over)} over the limit ({structure})"]
    lines += [f"  {o['address'] or o['object_id']}: {o['rule_distance_m']} m > {o['limit_m']} m ({o['rule_id']})"
              for o in over]
    lines += [f"  unreachable: {u['address'] or u['object_id']}" for u in s["unreachable"]]
    lines += [f"  note: {w}" for w in s["warnings"]]
    _echo(s, as_json, "\n".join(lines))
