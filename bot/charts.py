"""The digest's PNG: each objective's progress per period against the expected line.

Drawn with matplotlib's object API (`Figure` + the Agg canvas), never pyplot: pyplot keeps
global state, and charts are drawn in worker threads (`render_off_loop`) so the event loop
never waits on one. matplotlib is imported on first use, so processes that never draw do
not pay for it.

What is drawn is an image, so no mrkdwn can be injected through it; still, user text (the
team name) is cut, stripped of control characters and drawn without matplotlib's math
parsing (a `$` in a name would otherwise be read as TeX), and the legend shows objective
refs (`O3`), not titles.
"""

from __future__ import annotations

import asyncio
import atexit
import io
import os
import re
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.okr.series import ProgressSeries

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH, HEIGHT = 800, 400  # pixels
DPI = 100
TEAM_MAX = 60  # characters of the team name in the title
LABEL_MAX = 12  # characters of a legend label (refs are `O123`)
ALT_TEXT_MAX = 2000  # Slack's limit for an image block's alt_text
PALETTE_COLOURS = 128  # of the PNG (see `_png`)
LEGEND_ROWS = 20  # entries a legend column holds before another column starts
LEGEND_COLUMNS = 3  # at most: the plot keeps most of the width
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_prepare_lock = threading.Lock()


@dataclass(frozen=True)
class ProgressChart:
    """What one team's digest chart shows: whose, up to which period, and the lines."""

    team: str
    period: str
    series: ProgressSeries


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return directory.is_dir() and os.access(directory, os.W_OK)


def _matplotlib_dirs() -> list[Path]:
    """Where matplotlib would keep its configuration and font cache without MPLCONFIGDIR."""
    home = Path.home()
    if sys.platform.startswith(("linux", "freebsd")):
        config = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        cache = os.environ.get("XDG_CACHE_HOME") or str(home / ".cache")
        return [Path(config, "matplotlib"), Path(cache, "matplotlib")]
    return [home / ".matplotlib"]


def prepare_matplotlib() -> None:
    """Give matplotlib a writable place for its font cache when home is read-only (a
    container's), instead of its warning and a cache directory per import. Only then is
    MPLCONFIGDIR set, to a temporary directory removed at exit."""
    with _prepare_lock:
        if os.environ.get("MPLCONFIGDIR") or "matplotlib" in sys.modules:
            return
        try:
            ready = all(_writable(d) for d in _matplotlib_dirs())
        except RuntimeError:  # no home directory at all
            ready = False
        if not ready:
            directory = tempfile.mkdtemp(prefix="okr-bot-matplotlib-")
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            os.environ["MPLCONFIGDIR"] = directory


def _plain(text: str, limit: int) -> str:
    """User text as one short line."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _figure(width: int, height: int) -> Figure:
    prepare_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)  # the Agg canvas, set on this figure only
    return figure


def _png(figure: Figure) -> bytes:
    """The figure as an indexed-colour PNG: a chart has a few dozen colours plus their
    anti-aliasing, and full RGB would take four times the bytes (30 zigzag lines passed
    200 kB). Pillow comes with matplotlib."""
    from PIL import Image

    raw = io.BytesIO()
    figure.savefig(raw, format="rgba", dpi=DPI)
    image = Image.frombytes("RGBA", figure.canvas.get_width_height(), raw.getvalue())
    indexed = image.convert("RGB").quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    indexed.save(out, format="PNG")
    return out.getvalue()


def render_empty(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A blank figure of that size: what a chart costs beyond matplotlib itself."""
    return _png(_figure(width, height))


def render_progress_chart(chart: ProgressChart) -> bytes:
    """An 800x400 PNG: one line per objective, the expected line dashed, 0-100 %.

    CPU-bound for tens of milliseconds: call `render_off_loop` from async code."""
    from matplotlib import colormaps
    from matplotlib.ticker import PercentFormatter

    figure = _figure(WIDTH, HEIGHT)
    series = chart.series
    periods = list(series.periods)
    x = list(range(len(periods)))
    named = min(len(series.objectives), LEGEND_ROWS * LEGEND_COLUMNS - 1)  # room for "expected"
    columns = max(1, -(-(named + 1) // LEGEND_ROWS))
    figure.subplots_adjust(left=0.08, right=0.86 - 0.07 * (columns - 1), top=0.88, bottom=0.2)
    ax = figure.add_subplot()
    palette = colormaps["tab10" if len(series.objectives) <= 10 else "tab20"]
    styles = ("-", "-.", ":")
    for i, line in enumerate(series.objectives):
        ax.plot(
            x,
            [p.progress for p in line.points],
            color=palette(i % palette.N),
            linestyle=styles[(i // palette.N) % len(styles)],
            marker="o",
            markersize=3,
            linewidth=1.6,
            clip_on=False,
            # Past what the legend holds, lines are drawn unnamed ("_" hides a label).
            label=_plain(line.ref, LABEL_MAX) if i < named else "_",
        )
    ax.plot(
        x,
        [p.progress for p in series.ideal],
        color="0.35",
        linestyle="--",
        linewidth=1.2,
        clip_on=False,
        label="expected",
    )
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlim(-0.3, max(len(periods) - 0.7, 0.3))
    step = max(1, -(-len(periods) // 14))  # at most 14 labels on the x axis
    ax.set_xticks(x[::step], periods[::step], rotation=45, ha="right", fontsize=8)
    ax.grid(axis="y", color="0.9")
    ax.set_title(
        f"{_plain(chart.team, TEAM_MAX)} · progress to {_plain(chart.period, LABEL_MAX)}",
        fontsize=11,
        parse_math=False,
    )
    legend = ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        ncols=columns,
        fontsize=7,
        frameon=False,
    )
    for text in legend.get_texts():
        text.set_parse_math(False)
    return _png(figure)


async def render_off_loop(chart: ProgressChart) -> bytes:
    """`render_progress_chart` in a worker thread: the event loop keeps serving meanwhile."""
    return await asyncio.to_thread(render_progress_chart, chart)


def alt_text(chart: ProgressChart) -> str:
    """What the chart shows, in words, for the image block's alt_text (plain text)."""
    series = chart.series
    if not series.periods:
        return _plain(f"Progress chart of {chart.team}: no period yet.", ALT_TEXT_MAX)
    last = series.periods[-1]
    shown = "; ".join(
        f"{_plain(line.ref, LABEL_MAX)} {round(line.points[-1].progress * 100)} %"
        for line in series.objectives
    )
    expected = round(series.ideal[-1].progress * 100)
    text = (
        f"Progress of {chart.team} per week, {series.periods[0]} to {last}: "
        f"{shown or 'no objectives'}; expected {expected} %."
    )
    return _plain(text, ALT_TEXT_MAX)
