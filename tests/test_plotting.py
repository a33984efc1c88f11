"""The visual layer: usaav.plotting and usaav.tables.

Figures are checked through what they contain (data on the axes, labels,
the common camera), not through pixels.
"""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

import usaav  # noqa: E402
from usaav import kernels, plotting  # noqa: E402

OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    matplotlib.pyplot.close("all")


def test_palette_is_the_okabe_ito_set_and_indexable_three_ways():
    assert set(plotting.PALETTE) == OKABE_ITO
    assert plotting.PALETTE[0] == plotting.PALETTE["blue"] == plotting.PALETTE.blue
    with pytest.raises(KeyError):
        plotting.PALETTE["magenta"]


def test_camera_unpacks_as_keywords_and_positionally():
    assert dict(**plotting.CAMERA) == {"elev": plotting.CAMERA.elev, "azim": plotting.CAMERA.azim}
    elev, azim = plotting.CAMERA
    assert (elev, azim) == (plotting.CAMERA.elev, plotting.CAMERA.azim)


@pytest.mark.parametrize("bare", [False, True])
def test_sphere_axes_share_the_camera_and_the_unit_box(bare):
    ax = plotting.sphere_axes(title="t", bare=bare)
    assert (ax.elev, ax.azim) == (plotting.CAMERA.elev, plotting.CAMERA.azim)
    assert ax.get_xlim() == ax.get_ylim() == ax.get_zlim() == (-1.0, 1.0)
    if not bare:
        assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("$x_1$", "$x_2$", "$x_3$")


def test_plot_points_draws_every_point_at_its_coordinates():
    X = usaav.uniform_sphere(40, 3, rng=1)
    ax = plotting.plot_points(X, values=np.linspace(0, 1, 40))
    drawn = np.column_stack(ax.collections[-1]._offsets3d)
    np.testing.assert_allclose(drawn, X)


def test_plot_points_on_the_circle_for_two_dimensional_points():
    X = usaav.uniform_sphere(25, 2, rng=2)
    ax = plotting.plot_points(X)
    assert ax.name == "rectilinear"
    np.testing.assert_allclose(ax.collections[-1].get_offsets(), X)


@pytest.mark.parametrize(
    "X, values",
    [(np.zeros((5, 4)), None), (np.zeros(5), None), (np.ones((5, 3)), np.zeros(4)), (np.full((2, 3), np.nan), None)],
)
def test_plot_points_refuses_bad_shapes(X, values):
    with pytest.raises(ValueError):
        plotting.plot_points(X, values=values)


def test_gallery_has_one_panel_per_configuration_in_order():
    configs = {f"c{k}": usaav.uniform_sphere(10, 3, rng=k) for k in range(5)}
    fig = plotting.plot_gallery(configs, ncols=2)
    assert [ax.get_title() for ax in fig.axes] == list(configs)


@pytest.mark.slow
def test_animation_keeps_at_most_max_frames_including_first_and_last():
    run = usaav.simulate(kernels.USA(1.0), usaav.uniform_sphere(12, 3, rng=0), None, t_max=5.0)
    anim = plotting.animate_sphere(run, max_frames=7)
    assert isinstance(anim, FuncAnimation)
    frames = list(anim.new_frame_seq())
    assert len(frames) <= 7 and frames[0] == 0 and frames[-1] == len(run.t) - 1
    html = anim.to_jshtml()  # renders every frame: a page can embed it without a kernel
    assert html.count("data:image/png;base64") == len(frames)


def test_series_are_clipped_at_the_floor_on_a_log_axis_and_bands_drawn():
    t = np.linspace(0, 1, 5)
    ax = plotting.plot_series(t, {"a": np.array([1.0, 0.1, 0.0, 1e-3, 1e-4])},
                              bands={"a": np.full(5, 0.01)}, floor=1e-20)
    y = ax.lines[0].get_ydata()
    assert y.min() == 1e-20 and ax.get_yscale() == "log"
    assert len(ax.collections) == 1  # the band
    assert to_rgb(ax.lines[0].get_color()) == to_rgb(plotting.PALETTE[0])


def test_table_markdown_writes_minus_signs_in_numeric_cells_only():
    from usaav.tables import table_markdown

    text = table_markdown(["name", "value"], [["a-b", "-0.5"], ["x-1", "1.0e-05"], ["c", "**-2.25**"]])
    rows = [line.split(" | ") for line in text.splitlines()[2:]]
    assert [row[1] for row in rows] == ["\u22120.5 |", "1.0e\u221205 |", "**\u22122.25** |"]
    assert [row[0] for row in rows] == ["| a-b", "| x-1", "| c"]  # words keep their hyphens


def test_table_markdown_escapes_bars_and_refuses_rows_of_the_wrong_width():
    from usaav.tables import table_markdown

    text = table_markdown(["a", "b"], [["x|y", 1.5]])
    assert text.splitlines()[2] == r"| x\|y | 1.5 |"
    with pytest.raises(ValueError, match=r"rows\[0\] has 1 cells but header has 2 columns"):
        table_markdown(["a", "b"], [["only one"]])


def test_panels_show_every_figure_as_one_wrapping_html_block():
    X = usaav.uniform_sphere(20, 3, rng=0)
    panels = plotting.plot_panels({"a": X, "b": X, "c": X[:, :2] / np.linalg.norm(X[:, :2], axis=1, keepdims=True)},
                                  values=np.linspace(0, 1, 20), key="position s", vmin=0, vmax=1)
    html = panels._repr_html_()
    assert html.startswith('<div class="usaav-panels">') and html.count("<img ") == 4 == len(panels)
    with pytest.raises(TypeError, match="figures must be a non-empty sequence of matplotlib figures"):
        plotting.Panels([])


def test_categorical_color_key_uses_the_colours_plot_points_gives_the_ids():
    import matplotlib.colors as mcolors

    ids = np.arange(12) % 4
    ax = plotting.plot_points(usaav.uniform_sphere(12, 3, rng=1), values=ids, cmap="tab10", vmin=-0.5, vmax=9.5)
    point_colours = ax.collections[0].get_facecolors()
    key = plotting.color_key("prompt id", cmap="tab10", vmin=-0.5, vmax=9.5, categories=["0", "1", "2", "3"])
    swatches = [mcolors.to_rgba(h.get_color()) for h in key.axes[0].get_legend().legend_handles]
    for k in range(4):
        np.testing.assert_allclose(swatches[k], point_colours[list(ids).index(k)])
    plotting.close(ax)
    plotting.close(key)


@pytest.mark.parametrize("names", [[f"p{k + 1}" for k in range(12)],
                                   ["USA baseline", "distance bias", "Toeplitz", "RoPE", "generalised RoPE"]])
def test_categorical_color_key_shows_every_swatch_inside_the_figure(names):
    key = plotting.color_key("prompt id", cmap="tab10", vmin=-0.5, vmax=9.5, categories=names)
    key.canvas.draw()
    renderer = key.canvas.get_renderer()
    figure_box = key.bbox
    legend = key.axes[0].get_legend()
    assert len(legend.legend_handles) == len(names)
    for text in legend.get_texts():
        box = text.get_window_extent(renderer)
        assert figure_box.x0 - 0.5 <= box.x0 and box.x1 <= figure_box.x1 + 0.5, text.get_text()
        assert figure_box.y0 - 0.5 <= box.y0 and box.y1 <= figure_box.y1 + 0.5, text.get_text()
    plotting.close(key)


def test_palette_png_looks_like_matplotlibs_png_at_a_fraction_of_the_bytes():
    import io

    from PIL import Image

    # A 2D figure renders the same pixels at every save (a 3D axes may still move between saves).
    fig, ax = plt.subplots(figsize=(3.6, 3.0))
    t = np.linspace(0, 1, 200)
    ax.scatter(np.cos(6 * t), np.sin(6 * t) * t, c=t, cmap="viridis", s=12)
    ax.plot(t, t**2, color=plotting.PALETTE.vermillion, lw=1.5)
    direct = io.BytesIO()
    fig.savefig(direct, format="png", dpi=110)
    compact = plotting.palette_png(fig, dpi=110)
    truth = np.asarray(Image.open(io.BytesIO(direct.getvalue())).convert("RGBA"), dtype=float)
    shown = np.asarray(Image.open(io.BytesIO(compact)).convert("RGBA"), dtype=float)
    assert shown.shape == truth.shape
    # 256 colours: antialiased edges move by a few levels of 255, the white background not at all
    assert np.mean(np.abs(shown - truth)) < 0.5 and np.percentile(np.abs(shown - truth), 99) < 8
    assert np.array_equal(shown[0, 0], truth[0, 0])
    assert len(compact) < 0.6 * len(direct.getvalue())
    plotting.close(fig)
