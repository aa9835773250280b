import json

import geopandas as gpd
import pytest

from geo3d import datasets
from geo3d.errors import InputError, OutputExistsError
from geo3d.stats import aging_statistics
from geo3d.underground import read_pipes

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pydeck = pytest.importorskip("pydeck")

from geo3d.viz import (  # noqa: E402
    figure_to_file,
    plot_statistics,
    save_map,
    statistics_deck,
    use_hangul_font,
    value_colours,
)


@pytest.fixture(scope="module")
def data():
    pipes = read_pipes(datasets.get_path("utilities"))
    areas = gpd.read_file(datasets.get_path("neighbourhoods"))
    stats = aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025)
    return pipes, areas, stats


def test_choropleth_has_hangul_names_legend_and_scale(data):
    import matplotlib.pyplot as plt

    _, areas, stats = data
    fig, ax = plot_statistics(stats, areas, area_id="adm_cd2", utility="sewer")
    names = {t.get_text() for t in ax.texts}
    assert {"제기동", "용신동", "전농1동", "청량리동", "회기동"} <= names
    assert any(t.endswith(" m") or t.endswith(" km") for t in names)  # scale bar
    assert "N" in names  # north arrow
    assert len(fig.axes) == 2  # the colour-bar legend
    assert "하수" in ax.get_title()
    plt.close(fig)


def test_plot_into_given_ax_and_density(data):
    import matplotlib.pyplot as plt

    _, areas, stats = data
    matplotlib.rcParams["font.family"] = ["sans-serif"]  # axes made before the Hangul font is set
    fig, ax = plt.subplots()
    fig2, ax2 = plot_statistics(stats, areas, area_id="adm_cd2", column="density_km_per_km2",
                                ax=ax, labels=False, north_arrow=False, scale_bar=False)
    assert fig2 is fig and ax2 is ax
    assert not any(t.get_text().endswith("동") for t in ax.texts)
    assert ax.title.get_fontfamily()[0] == "NanumGothic"
    with pytest.raises(InputError, match="choose one of"):
        plot_statistics(stats, areas, area_id="adm_cd2", column="nope", ax=ax)
    plt.close(fig)


def test_pdf_embeds_hangul_truetype(tmp_path, data):
    import matplotlib.pyplot as plt

    _, areas, stats = data
    assert use_hangul_font() == "NanumGothic"
    fig, _ = plot_statistics(stats, areas, area_id="adm_cd2")
    pdf = figure_to_file(fig, tmp_path / "map.pdf")
    raw = pdf.read_bytes()
    assert b"NanumGothic" in raw and b"FontFile2" in raw  # TrueType (fonttype 42) embedded
    png = save_map((fig, None), tmp_path / "map.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OutputExistsError):
        save_map(fig, png)
    with pytest.raises(InputError):
        save_map(fig, tmp_path / "map.html")
    plt.close(fig)


def test_deck_map_and_html(tmp_path, data):
    pipes, areas, stats = data
    deck = statistics_deck(stats, areas, area_id="adm_cd2", utility="water", pipes=pipes)
    assert [layer.id for layer in deck.layers] == ["areas", "pipes"]
    html = save_map(deck, tmp_path / "map.html")
    text = html.read_text(encoding="utf-8")
    assert "GeoJsonLayer" in text
    assert "제기동" in text or json.dumps("제기동")[1:-1] in text  # pydeck may escape non-ASCII
    with pytest.raises(InputError):
        save_map(deck, tmp_path / "map.png")
    with pytest.raises(InputError):
        save_map(object(), tmp_path / "x.html")


def test_value_colours():
    cols = value_colours([0.0, 0.5, 1.0, None], vmin=0, vmax=1)
    assert cols[0][:3] == [255, 255, 204] and cols[2][:3] == [128, 0, 38]
    assert cols[3] == [200, 200, 200, 120]


def test_hangul_labels_draw_without_missing_glyphs(tmp_path, data):
    import warnings

    import matplotlib.pyplot as plt

    _, areas, stats = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        fig, ax = plot_statistics(stats, areas, area_id="adm_cd2", utility="water")
        fig.canvas.draw()
        figure_to_file(fig, tmp_path / "map.pdf")
    hangul = [t for t in ax.texts if any("\uac00" <= ch <= "\ud7a3" for ch in t.get_text())]
    assert len(hangul) >= 5
    assert all(t.get_fontname() == "NanumGothic" for t in hangul)
    plt.close(fig)


def test_maps_leave_the_session_rcparams_alone(tmp_path, data):
    """plot_statistics and figure_to_file set the Hangul font only inside rc_context."""
    import matplotlib.pyplot as plt

    _, areas, stats = data
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"], "axes.unicode_minus": True,
                                "pdf.fonttype": 3}):
        before = {k: v for k, v in matplotlib.rcParams.items() if not k.startswith("backend")}
        fig, ax = plot_statistics(stats, areas, area_id="adm_cd2")
        assert {t.get_fontfamily()[0] for t in ax.texts if t.get_text().endswith("동")} == {
            "NanumGothic"}
        raw = figure_to_file(fig, tmp_path / "map.pdf").read_bytes()
        assert b"NanumGothic" in raw and b"FontFile2" in raw   # TrueType embedded
        plt.close(fig)
        after = {k: v for k, v in matplotlib.rcParams.items() if not k.startswith("backend")}
        assert after == before
