"""Section sheets: scale, labels (measured with the renderer), fonts, formats, atlas."""

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

import geo3d
from geo3d.errors import InputError, OutputExistsError
from geo3d.io.raster import Dem, read_dem
from geo3d.sheets import (
    PALETTES,
    get_palette,
    plot_section,
    plot_section_sheet,
    section_atlas,
    section_to_pdf,
)
from geo3d.sheets.labels import overlaps, spread_labels
from geo3d.underground import read_pipes
from geo3d.underground.section import Section, cross_section

CRS = "EPSG:5186"


@pytest.fixture(scope="module")
def sample():
    pipes = read_pipes(geo3d.datasets.get_path("utilities"))
    dem = read_dem(geo3d.datasets.get_path("dem"))
    line = gpd.read_file(geo3d.datasets.get_path("section_line"))
    sec = cross_section(pipes, line, ground=dem, name="A-A'", road_width=25.0,
                        groundwater=geo3d.datasets.get_path("boreholes"),
                        pit=geo3d.datasets.get_path("pit"))
    return pipes, dem, sec


@pytest.fixture(scope="module")
def crowded():
    """Twelve pipes within 3 m: labels must spread without overlapping."""
    dem = Dem(np.full((40, 40), 30.0), Affine(1, 0, 0, 0, -1, 40), CRS)
    xs = 10 + np.arange(12) * 0.25
    utils = ["water", "sewer", "power", "telecom", "gas", "heat"] * 2
    p = gpd.GeoDataFrame(
        {"utility": utils, "diameter_mm": [100.0 + 20 * i for i in range(12)],
         "depth_m": [0.8 + 0.15 * i for i in range(12)], "depth_reference": "top",
         "depth_kind": "cover", "material": "pe", "install_year": 2001,
         "source_id": [f"p{i}" for i in range(12)]},
        geometry=[shapely.LineString([(x, 0), (x, 40)]) for x in xs], crs=CRS)
    return cross_section(p, [(2, 20), (24, 20)], ground=dem, name="B-B'")


def label_boxes(fig, ax):
    r = fig.canvas.get_renderer()
    texts = [t for t in ax.texts if t.get_gid() == "geo3d-label"]
    return texts, np.array([[e.x0, e.y0, e.x1, e.y1] for e in
                            (t.get_window_extent(r) for t in texts)])


@pytest.mark.parametrize("which", ["sample", "crowded"])
def test_every_crossing_labelled_and_no_label_overlaps(which, sample, crowded):
    sec = sample[2] if which == "sample" else crowded
    fig, ax = plot_section_sheet(sec)
    texts, boxes = label_boxes(fig, ax)
    assert len(texts) == len(sec.crossings) > 5
    assert overlaps(boxes) == []
    # labels sit inside the drawing and above the ground line
    axbox = ax.get_window_extent()
    assert boxes[:, 0].min() >= axbox.x0 - 1 and boxes[:, 2].max() <= axbox.x1 + 1
    gz = np.nanmax(sec.ground["z"])
    ground_px = ax.transData.transform((0, gz))[1]
    assert boxes[:, 1].min() > ground_px


def test_leaders_do_not_cross(crowded):
    _, ax = plot_section(crowded)
    leaders = [ln for ln in ax.lines if ln.get_gid() == "geo3d-leader"]
    assert len(leaders) == len(crowded.crossings)
    segs = []
    for ln in leaders:
        x, y = ln.get_data()
        segs.append(shapely.LineString(np.column_stack([x, y])))
    for i in range(len(segs)):
        for j in range(i + 1, len(segs)):
            assert not segs[i].intersects(segs[j])


def test_fixed_scale_and_exaggeration(sample):
    sec = sample[2]
    fig, ax = plot_section_sheet(sec)
    s, e = ax.geo3d_scale
    assert s in (100, 200, 250) and e in (1, 2, 5, 10)
    bbox = ax.get_window_extent()
    mm_w = bbox.width / fig.dpi * 25.4
    mm_h = bbox.height / fig.dpi * 25.4
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert (x1 - x0) * 1000 / s == pytest.approx(mm_w, abs=0.2)
    assert (y1 - y0) * 1000 * e / s == pytest.approx(mm_h, abs=0.2)
    texts = {t.get_gid(): t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))
             if t.get_gid()}
    assert f"V:H = 1:{e}" in texts["geo3d-exaggeration"]
    assert f"1:{s}" in texts["geo3d-hscale"]
    _, ax2 = plot_section_sheet(sec, scale=500, exaggeration=1)
    assert ax2.geo3d_scale == (500, 1)


def test_pipes_true_size_and_small_on_top(sample):
    sec = sample[2]
    _, ax = plot_section(sec)
    pipes = [p for p in ax.patches if p.get_gid() == "geo3d-pipe"]
    assert len(pipes) == len(sec.crossings)
    sewer = sec.crossings[sec.crossings["utility"] == "sewer"].iloc[0]
    big = max(pipes, key=lambda p: p.get_zorder() * -1)  # lowest z-order = the biggest
    assert getattr(big, "width", None) == pytest.approx(sewer["draw_width_m"])
    assert big.height == pytest.approx(sewer["size_v_m"])


def test_pdf_embeds_the_hangul_font(sample, tmp_path):
    out = section_to_pdf(sample[2], tmp_path / "sheet.pdf", title="횡단면도 A-A'",
                         project="가스관 교체", author="홍길동")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"NanumGothic" in data
    assert b"/FontFile2" in data          # TrueType embedded (pdf.fonttype 42)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_other_formats(sample, tmp_path, suffix):
    out = section_to_pdf(sample[2], tmp_path / f"sheet{suffix}", paper="A4", dpi=60)
    assert out.stat().st_size > 1000


def test_outputs_refuse_to_overwrite_and_bad_suffix(sample, tmp_path):
    p = tmp_path / "s.pdf"
    p.write_text("old")
    with pytest.raises(OutputExistsError):
        section_to_pdf(sample[2], p)
    assert p.read_text() == "old"
    with pytest.raises(InputError, match=r"\.pdf"):
        section_to_pdf(sample[2], tmp_path / "s.dxf")
    with pytest.raises(InputError, match="paper"):
        plot_section_sheet(sample[2], paper="B5")


def test_palettes():
    apwa = get_palette("apwa")
    assert (apwa["power"], apwa["gas"], apwa["telecom"], apwa["water"], apwa["sewer"]) == (
        "#e4002b", "#ffd100", "#ff8200", "#0072ce", "#00a650")
    assert "reclaimed" in apwa
    kr = get_palette("korean")
    assert len({kr[u] for u in ("water", "sewer", "power", "telecom", "gas", "heat")}) == 6
    assert get_palette({"water": "black"})["water"] == "black"
    with pytest.raises(InputError, match="apwa, korean"):
        get_palette("usa")
    assert set(PALETTES) == {"apwa", "korean"}


def test_plot_into_user_axes(sample):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    f2, a2 = plot_section(sample[2], ax=ax, palette="apwa", lang="en")
    assert f2 is fig and a2 is ax
    assert any("Φ" in t.get_text() for t in ax.texts)


def test_empty_section_draws():
    _, ax = plot_section_sheet(Section.empty(shapely.LineString([(0, 0), (20, 0)]),
                                               name="C-C'"))
    assert ax.geo3d_scale[0] in (50, 100)


def test_spread_labels_keeps_order_and_spacing():
    rng = np.random.default_rng(1)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        want = np.sort(rng.uniform(0, 200, n))
        w = rng.uniform(2, 8, n)
        c = spread_labels(want, w, lo=0, hi=250, gap=1.0)
        left, right = c - w / 2, c + w / 2
        assert (left[1:] >= right[:-1] + 1.0 - 1e-9).all()
        if w.sum() + n <= 250:
            assert left.min() >= -1e-9 and right.max() <= 250 + 1e-9


def test_atlas(sample, tmp_path):
    pipes, dem, _ = sample
    roads = gpd.read_file(geo3d.datasets.get_path("road"))
    out = tmp_path / "atlas.pdf"
    secs = section_atlas(pipes, roads, road_name="고산자로", path=out, step=100.0,
                         ground=dem, groundwater=geo3d.datasets.get_path("boreholes"))
    data = out.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages == len(secs) + 1
    assert len(secs) >= 8
    assert all(len(s.crossings) >= 4 for s in secs)
    assert [s.station_m for s in secs][:2] == [50.0, 150.0]
    with pytest.raises(InputError, match="road_name"):
        section_atlas(pipes, roads, path=tmp_path / "b.pdf", ground=dem)
    assert not (tmp_path / "b.pdf").exists()
    with pytest.raises(OutputExistsError):
        section_atlas(pipes, roads, road_name="고산자로", path=out, ground=dem)


def test_numbers_printed_on_the_sheet_are_the_csv_numbers(sample):
    sec = sample[2]
    fig, _ = plot_section_sheet(sec)
    cells = [t.get_text() for t in fig.findobj(lambda a: getattr(a, "get_gid", lambda: None)()
                                               == "geo3d-table")]
    n = len(sec.crossings)
    assert len(cells) == 8 * n
    cols = [cells[8 * j: 8 * j + 8] for j in range(n)]
    t = sec.table()
    for j, col in enumerate(cols):
        assert float(col[0]) == pytest.approx(t["chainage_m"][j], abs=0.006)
        assert float(col[5].rstrip("*")) == pytest.approx(t["cover_m"][j], abs=0.006)
        assert float(col[6]) == pytest.approx(t["top_z"][j], abs=0.006)
        assert float(col[7]) == pytest.approx(t["centre_z"][j], abs=0.006)


def _page(fig):
    """What a page shows: every text with its position and gid, the drawn shapes, and the
    rendered pixels."""
    from matplotlib.text import Text

    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba()).copy()
    texts = sorted((t.get_gid() or "", t.get_text(), *np.round(t.get_position(), 6))
                   for t in fig.findobj(Text) if t.get_visible() and t.get_text())
    shapes = sorted((type(a).__name__, a.get_gid() or "") for ax in fig.axes
                    for a in [*ax.lines, *ax.patches, *ax.collections])
    return texts, shapes, pixels


def _same_page(a, b):
    assert a[0] == b[0]
    assert a[1] == b[1]
    np.testing.assert_array_equal(a[2], b[2])


def test_reused_figure_draws_the_same_page_as_a_new_one(sample, crowded, tmp_path):
    """An atlas draws every page on one figure, keeping its axes, legend and title block:
    each page must still be exactly what a fresh figure shows, with nothing left over."""
    sec = sample[2]
    fig, _ = plot_section_sheet(crowded, sheet=(1, 3), project="가스관")
    fig2, ax2 = plot_section_sheet(sec, fig=fig, sheet=(2, 3), project="가스관")
    assert fig2 is fig
    fresh, ax_fresh = plot_section_sheet(sec, sheet=(2, 3), project="가스관")
    _same_page(_page(fig), _page(fresh))
    assert ax2.get_xlim() == ax_fresh.get_xlim() and ax2.get_ylim() == ax_fresh.get_ylim()
    assert [t.get_text() for t in ax2.texts if t.get_gid() == "geo3d-label"] == [
        t.get_text() for t in ax_fresh.texts if t.get_gid() == "geo3d-label"]
    # the same title-block layout: its values change in place
    block = fig._geo3d_sheet.title_block
    plot_section_sheet(sec, fig=fig, sheet=(3, 3), project="수도관", title="A-A' 2")
    assert fig._geo3d_sheet.title_block is block
    _same_page(_page(fig), _page(plot_section_sheet(sec, sheet=(3, 3), project="수도관",
                                                    title="A-A' 2")[0]))
    # another language or paper, or a figure changed in between: the sheet is laid out anew
    plot_section_sheet(sec, fig=fig, lang="en", paper="A4")
    en, _ = plot_section_sheet(sec, lang="en", paper="A4")
    _same_page(_page(fig), _page(en))
    fig.clear()
    fig.add_subplot().plot([0, 1], [0, 1])
    plot_section_sheet(sec, fig=fig, sheet=(2, 3), project="가스관")
    _same_page(_page(fig), _page(fresh))


def test_drawing_leaves_the_session_rcparams_alone(crowded, tmp_path):
    """Fonts are set only inside rc_context: a user's own settings survive every sheet call."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    with mpl.rc_context({"font.family": ["DejaVu Sans"], "axes.unicode_minus": True,
                         "pdf.fonttype": 3}):
        before = {k: v for k, v in mpl.rcParams.items() if not k.startswith("backend")}
        fig, ax = plot_section(crowded)
        assert any(t.get_fontfamily()[0] == "NanumGothic" for t in ax.texts)
        plt.close(fig)
        fig, _ = plot_section_sheet(crowded, title="횡단면")
        plt.close(fig)
        section_to_pdf(crowded, tmp_path / "s.pdf")
        after = {k: v for k, v in mpl.rcParams.items() if not k.startswith("backend")}
        assert after == before
