"""Every screen size and both themes: the welcome screen, a wizard page, the results page and the dashboard.

One tiny GAN run (module-scoped, shared by every check) gives the results page
and a dashboard with curves and sample grids.  Each page is then shown at
1024x700 and 1920x1080, light and dark, saved as
``<page>_<w>x<h>_<theme>.png`` (the README's pictures: refresh them with
``LOOM_SCREENSHOTS=resources/screenshots pytest tests/test_screenshots.py``)
and measured while it is on screen:

* at 1024x700 every visible push button is whole on screen (or inside a scroll
  area, which reaches it), not squeezed below its own minimum, and no two overlap;
* every visible combo box is wide enough for its longest entry;
* no curve plot has a legend box inside its data area (the legend is the header row), and none is cut off;
* the sample preview fills its pane at both sizes, and the inspector's form fits its dock;
* on the dark theme, toolbar icons and check-box / radio indicators stand out from the window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QRadioButton,
    QStyle,
    QStyleOptionButton,
    QToolBar,
    QWidget,
)

from gui.testing import HANG_MS, small_example
from tests.conftest import screenshots_dir

pytestmark = pytest.mark.timeout(1800)  # a hang (a modal prompt) fails instead of stalling CI

SIZES = ((1024, 700), (1920, 1080))
THEMES = ("light", "dark")
PAGES = ("welcome", "wizard", "results", "dashboard")
SMALL = SIZES[0]
MIN_CONTRAST = 3.0  # WCAG's figure for graphics and large text


@dataclass
class Shot:
    """What one page looked like at one size and theme: its file and what the measurements found."""

    path: Path
    buttons_checked: int = 0
    combos_checked: int = 0
    problems: list[str] = field(default_factory=list)


def wait_until(predicate, what: str) -> None:
    """Let Qt (and the GUI's coroutines) run until ``predicate`` holds; the ceiling only catches hangs."""
    end = time.monotonic() + HANG_MS / 1000
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        QTest.qWait(20)


def visible_rect(widget: QWidget, root: QWidget) -> tuple[QRect, bool]:
    """``widget``'s rectangle in ``root`` coordinates, clipped by its ancestors; and whether a scroll area holds it."""
    rect = QRect(widget.mapTo(root, widget.rect().topLeft()), widget.size())
    parent = widget.parentWidget()
    scrolled = False
    while parent is not None and parent is not root:
        outer = QRect(parent.mapTo(root, parent.rect().topLeft()), parent.size())
        rect = rect.intersected(outer)
        if isinstance(parent.parentWidget(), QAbstractScrollArea) and parent is parent.parentWidget().viewport():
            scrolled = True
        parent = parent.parentWidget()
    return rect.intersected(root.rect()), scrolled


def behind_another_tab(widget: QWidget, root: QWidget) -> bool:
    """In a dock that shares its place with others and is not the raised one (its tab reaches it)."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    return (parent is not None and bool(root.tabifiedDockWidgets(parent))
            and not parent.geometry().intersects(root.rect()))


def button_problems(root: QWidget, shot: Shot) -> None:
    """Buttons cut off, squeezed below their minimum or overlapping another (push buttons of ``root``)."""
    shown = []
    for button in root.findChildren(QPushButton):
        if not button.isVisible() or button.window() is not root.window():
            continue
        if isinstance(root, QMainWindow) and behind_another_tab(button, root):
            continue
        shot.buttons_checked += 1
        name = button.text() or button.accessibleName() or button.objectName()
        rect, scrolled = visible_rect(button, root)
        if rect.size() != button.size() and not scrolled:
            shot.problems.append(f"button {name!r} is cut off ({rect.width()}x{rect.height()} of "
                                 f"{button.width()}x{button.height()} on screen, no scroll bar reaches it)")
        hint = button.minimumSizeHint()
        if button.width() < hint.width() - 1 or button.height() < min(hint.height(), 20):
            shot.problems.append(f"button {name!r} is squeezed to {button.width()}x{button.height()} "
                                 f"(it needs {hint.width()}x{hint.height()})")
        if not rect.isEmpty():
            shown.append((name, rect, button))
    for i, (name_a, a, wa) in enumerate(shown):
        for name_b, b, wb in shown[i + 1:]:
            if a.intersects(b) and not (wa.isAncestorOf(wb) or wb.isAncestorOf(wa)):
                shot.problems.append(f"buttons {name_a!r} and {name_b!r} overlap")


def combo_problems(root: QWidget, shot: Shot) -> None:
    """Combo boxes narrower than their longest entry (plus the arrow)."""
    for combo in root.findChildren(QComboBox):
        if not combo.isVisible() or combo.count() == 0 or combo.window() is not root.window():
            continue
        shot.combos_checked += 1
        metrics = combo.fontMetrics()
        longest = max((combo.itemText(i) for i in range(combo.count())), key=metrics.horizontalAdvance)
        needed = metrics.horizontalAdvance(longest) + 2 * metrics.averageCharWidth()  # the arrow and margins
        if combo.width() < needed:
            shot.problems.append(f"combo box {combo.toolTip() or combo.objectName()!r} is {combo.width()} px wide; "
                                 f"its entry {longest!r} needs {needed}")


def luminance(color: QColor) -> float:
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(color.redF()) + 0.7152 * lin(color.greenF()) + 0.0722 * lin(color.blueF())


def contrast(a: QColor, b: QColor) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def best_contrast(image: QImage, background: QColor) -> float:
    """The strongest contrast any clearly opaque pixel of ``image`` has against ``background``."""
    best = 1.0
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if pixel.alpha() > 200:
                best = max(best, contrast(pixel, background))
    return best


def theme_problems(window, shot: Shot) -> None:
    """Dark-theme contrast of the toolbar icons and the check-box / radio indicators."""
    from PySide6.QtGui import QPalette

    background = window.palette().color(QPalette.Window)
    for bar in window.findChildren(QToolBar):
        for action in bar.actions():
            if action.icon().isNull() or not action.isVisible():
                continue
            image = action.icon().pixmap(QSize(24, 24)).toImage()
            if best_contrast(image, background) < MIN_CONTRAST:
                shot.problems.append(f"toolbar icon {action.text()!r} fades into the window")
    for kind in (QCheckBox, QRadioButton):
        probe = kind("probe")
        probe.resize(probe.sizeHint())
        option = QStyleOptionButton()
        option.initFrom(probe)
        element = QStyle.SE_CheckBoxIndicator if kind is QCheckBox else QStyle.SE_RadioButtonIndicator
        indicator = probe.style().subElementRect(element, option, probe)
        image = probe.grab(indicator).toImage()
        if best_contrast(image, background) < MIN_CONTRAST:
            shot.problems.append(f"the {kind.__name__} indicator fades into the window")
        probe.deleteLater()


def inspector_problems(window, shot: Shot) -> None:
    """The inspector's form fits its dock's width (fields wrap under their labels instead of running off)."""
    inspector = window.inspector
    if inspector.widget().width() > inspector.viewport().width():
        shot.problems.append(f"the inspector form is {inspector.widget().width()} px wide in a "
                             f"{inspector.viewport().width()} px dock")
    for edit in inspector.findChildren(QLineEdit):
        needed = edit.fontMetrics().horizontalAdvance(edit.text()) + 8
        if edit.isVisible() and edit.width() < needed:
            shot.problems.append(f"the inspector shows {edit.text()!r} in a {edit.width()} px field (it needs {needed})")


def legend_problems(window, shot: Shot) -> None:
    """A legend box inside a plot's data area, or a header row that reaches into it."""
    curves = window.dashboard.curves
    graphics = curves.graphics
    seen = graphics.mapToScene(graphics.viewport().rect()).boundingRect().adjusted(-1, -1, 1, 1)
    for group, plot in curves.plots.items():
        if not seen.contains(plot.sceneBoundingRect()):
            shot.problems.append(f"plot {group!r} is cut off at the pane's edge")
        if plot.vb.sceneBoundingRect().height() < 40:  # more plots than the pane holds scroll, never squash
            shot.problems.append(f"plot {group!r} is squashed to {plot.vb.sceneBoundingRect().height():.0f} px")
        if plot.legend is not None and plot.legend.isVisible():
            shot.problems.append(f"plot {group!r} has a legend box over its curves")
        if plot.titleLabel.sceneBoundingRect().intersects(plot.vb.sceneBoundingRect()):
            shot.problems.append(f"plot {group!r}: its legend row overlaps the data area")


def preview_problems(window, shot: Shot) -> None:
    """The sample grid should fill its pane (fit to the view's shorter side), whatever the window size."""
    view = window.dashboard.preview.view
    shown = view.mapFromScene(view.item.sceneBoundingRect()).boundingRect()
    room = view.viewport().rect()
    if shown.width() < 0.9 * room.width() and shown.height() < 0.9 * room.height():
        shot.problems.append(f"the sample preview uses {shown.width()}x{shown.height()} of its "
                             f"{room.width()}x{room.height()} pane")


@pytest.fixture(scope="module")
def gallery(qapp, tmp_path_factory: pytest.TempPathFactory):
    """Run a tiny GAN once, then show and measure every page at every size and theme."""
    from PySide6.QtWidgets import QMessageBox

    from gui.main_window import MainWindow
    from gui.wizards import install_wizards

    base = tmp_path_factory.mktemp("loom-screens")
    folder = screenshots_dir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOOM_CACHE_DIR", str(base / "cache"))
        patch.setenv("LOOM_HOME", str(base / "home"))
        window = MainWindow(probe_device=False)
        window.ask = lambda *_a, **_k: QMessageBox.Discard
        controller = install_wizards(window)
        window.resize(*SIZES[1])
        window.show()
        window.catalog.wait()
        wait_until(lambda: window.palette_panel.item_for("train_gan") is not None, "the step catalogue")
        window.dashboard.curves.warm_up()

        window.load_workflow(small_example("gan_digits", model={"width": 8, "latent_dim": 16},
                                           train={"epochs": 1, "sample_every": 4}, generate={"n": 16}))
        handle = window.start_run()
        assert handle is not None
        wait_until(lambda: not window.runs.active, "the tiny GAN run")
        run_dir = Path(handle.run_dir)
        preview = window.dashboard.preview
        preview.select_stream(next(s for s in preview.streams if s.startswith("train")))
        window.scene.nodes["train"].setSelected(True)  # the inspector shows its form (labels, combo boxes)
        wait_until(lambda: window.inspector.fields, "the inspector's form")
        window.inspector.advanced_toggle.setChecked(True)
        wizard = controller.open_wizard("classify")
        wait_until(lambda: wizard.isVisible() and wizard.data_page.thumbs.pixmap() is not None
                   and not wizard.data_page.thumbs.pixmap().isNull(), "the wizard's thumbnails")

        shots: dict[tuple[str, tuple[int, int], str], Shot] = {}
        try:
            for size in reversed(SIZES):  # as opened on a large screen first, then shrunk to a small one
                window.resize(*size)
                wizard.fit_screen(QSize(*size))
                for theme in THEMES:
                    window.set_theme(theme)
                    for page in PAGES:
                        if page == "welcome":
                            controller.show_welcome()
                        elif page == "results":
                            controller.show_results(run_dir)
                        elif page == "dashboard":
                            window.show_page("canvas")
                            window.view.fit_all()
                            window.dashboard.tabs.setCurrentWidget(preview)
                        QTest.qWait(150)
                        root = wizard if page == "wizard" else window
                        shot = Shot(folder / f"{page}_{size[0]}x{size[1]}_{theme}.png")
                        assert root.grab().save(str(shot.path))
                        if size == SMALL:
                            button_problems(root, shot)
                        combo_problems(root, shot)
                        if page == "dashboard":
                            inspector_problems(window, shot)
                            legend_problems(window, shot)
                            preview_problems(window, shot)
                        if theme == "dark" and page == "welcome":
                            theme_problems(window, shot)
                        shots[(page, size, theme)] = shot
            yield shots
        finally:
            wizard.close()
            window.set_theme("light")
            window.doc.undo_stack.setClean()
            window.close()
            window.deleteLater()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_is_saved_at_both_sizes_and_themes(gallery, page: str) -> None:
    for size in SIZES:
        for theme in THEMES:
            path = gallery[(page, size, theme)].path
            image = QImage(str(path))
            assert not image.isNull(), f"{path.name} was not written"
            if page != "wizard":
                assert (image.width(), image.height()) == size, f"{path.name} is {image.width()}x{image.height()}"


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("page", PAGES)
def test_at_1024x700_no_button_is_hidden_squeezed_or_overlapped(gallery, page: str, theme: str) -> None:
    shot = gallery[(page, SMALL, theme)]
    assert shot.buttons_checked >= 2, "the page shows its buttons"
    assert [p for p in shot.problems if p.startswith("button")] == []


@pytest.mark.parametrize("page", PAGES)
def test_combo_boxes_are_wide_enough_for_their_longest_entry(gallery, page: str) -> None:
    for size in SIZES:
        assert [p for p in gallery[(page, size, "light")].problems if p.startswith("combo")] == []


def test_dashboard_has_combo_boxes_to_check(gallery) -> None:
    """The dashboard shot shows the inspector's form of the train step, so its choices are measured too."""
    assert gallery[("dashboard", SMALL, "light")].combos_checked >= 3


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_legends_never_cover_the_curves_and_the_preview_fills_its_pane(gallery, size) -> None:
    for theme in THEMES:
        problems = gallery[("dashboard", size, theme)].problems
        assert [p for p in problems if p.startswith(("plot", "the sample preview"))] == []


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_inspector_form_fits_its_dock(gallery, size) -> None:
    assert [p for p in gallery[("dashboard", size, "light")].problems if p.startswith("the inspector")] == []


def test_dark_theme_icons_and_indicators_stand_out(gallery) -> None:
    problems = gallery[("welcome", SMALL, "dark")].problems + gallery[("welcome", SIZES[1], "dark")].problems
    assert [p for p in problems if "fades" in p] == []




def test_curve_colours_and_legend_text_read_on_both_themes() -> None:
    """The legend names each curve in the curve's own colour, so every series colour must read on both backgrounds."""
    from gui.dashboard.legend import SERIES_COLORS
    from gui.theme import DARK, LIGHT

    for c in (LIGHT, DARK):
        background = QColor(c.plot_bg)
        assert contrast(QColor(c.plot_fg), background) >= 4.5, "the plot's title and axis text"
        assert [s for s in SERIES_COLORS if contrast(QColor(s), background) < MIN_CONTRAST] == []


def test_legend_row_names_each_curve_in_its_colour() -> None:
    from gui.dashboard.legend import legend_html

    html = legend_html("GAN losses", [("loss_d", "#1c7ed6", False), ("previous: loss_g", "#e8590c", True)], "#333333")
    assert "<b style='color:#333333'>GAN losses</b>" in html
    assert "<span style='color:#1c7ed6'>━&nbsp;loss_d</span>" in html and "╌&nbsp;previous: loss_g" in html
