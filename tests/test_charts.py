"""The digest chart's PNG (bot/charts.py): size, shape, hostile names, and drawing off the
event loop."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from datetime import date
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.charts import (
    HEIGHT,
    WIDTH,
    ProgressChart,
    alt_text,
    render_empty,
    render_off_loop,
    render_progress_chart,
)
from bot.okr.progress import Direction, Kind, Measure
from bot.okr.series import (
    CycleDates,
    KeyResultHistory,
    ObjectiveHistory,
    cycle_periods,
    progress_series,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 200 * 1024
QUARTER = CycleDates(date(2026, 1, 1), date(2026, 3, 31), ZoneInfo("Europe/Berlin"))
PERIODS = cycle_periods(QUARTER, through="2026-W14")


def chart(objectives: int, *, team: str = "Platform", periods: int = len(PERIODS)) -> ProgressChart:
    """Lines that zigzag (the worst case for PNG compression), deterministic."""
    shown = PERIODS[:periods]
    measure = Measure(Kind.NUMBER, Direction.INCREASE, 0, 100)
    histories = [
        ObjectiveHistory(
            f"O{n + 1}",
            tuple(
                KeyResultHistory(
                    measure,
                    tuple(
                        None if (n + k + i) % 4 == 0 else float((n * 37 + k * 53 + i * 71) % 120)
                        for i in range(len(shown))
                    ),
                )
                for k in range(3)
            ),
        )
        for n in range(objectives)
    ]
    series = progress_series(QUARTER, periods=shown, objectives=histories)
    return ProgressChart(team, shown[-1] if shown else "2026-W01", series)


def image_of(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


@pytest.mark.parametrize(
    ("objectives", "periods"), [(0, 0), (0, 14), (1, 1), (3, 14), (30, 14), (100, 14)]
)
def test_a_chart_is_an_800_by_400_png_under_200_kb(objectives: int, periods: int) -> None:
    png = render_progress_chart(chart(objectives, periods=periods))
    assert image_of(png).size == (WIDTH, HEIGHT) == (800, 400)
    assert len(png) < MAX_BYTES


def test_the_same_chart_gives_the_same_bytes() -> None:
    assert render_progress_chart(chart(3)) == render_progress_chart(chart(3))
    assert render_progress_chart(chart(3)) != render_progress_chart(chart(4))


@pytest.mark.parametrize(
    "team",
    [
        "R&D $\\frac{1}{0}$ $$ \\",  # TeX that matplotlib would otherwise try to parse
        "line\nbreak\x00\x1b[31m\u2028and more",
        "x" * 10_000,
        "‮right-to-left‬ <@U123> *bold* <!channel>",
        "",
    ],
)
def test_any_team_name_draws(team: str) -> None:
    assert image_of(render_progress_chart(chart(2, team=team))).size == (WIDTH, HEIGHT)


def test_alt_text_is_plain_and_within_slacks_limit() -> None:
    text = alt_text(chart(3, team="Platform\nteam"))
    assert text.startswith("Progress of Platform team per week, 2026-W01 to 2026-W14: O1 ")
    assert text.endswith("; expected 100 %.") and "\n" not in text
    assert len(alt_text(chart(30, team="y" * 5000))) <= 2000
    assert "no period yet" in alt_text(chart(0, periods=0))


def test_the_empty_baseline_has_the_size_asked_for() -> None:
    assert image_of(render_empty(WIDTH, HEIGHT)).size == (800, 400)
    assert image_of(render_empty(300, 200)).size == (300, 200)


async def test_drawing_off_the_loop_leaves_the_loop_free() -> None:
    big = chart(30)
    expected = render_progress_chart(big)  # warm: imports and fonts are loaded
    started = time.perf_counter()
    render_progress_chart(big)
    blocking = time.perf_counter() - started  # what one chart would hold the loop for
    ticks: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.002)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    pngs = [await render_off_loop(big) for _ in range(3)]
    done.set()
    await task
    assert pngs == [expected] * 3
    # Drawn on the loop, the ticker would tick about once between charts. (A single long
    # gap can still happen off the loop: the garbage collector stops every thread.)
    gaps = sorted(later - earlier for earlier, later in pairwise(ticks))
    assert len(ticks) >= 10, (len(ticks), blocking)
    assert gaps[len(gaps) // 2] < blocking / 4, (gaps[len(gaps) // 2], blocking)


async def test_threads_drawing_at_once_do_not_disturb_each_other() -> None:
    charts = [chart(n) for n in (1, 5, 30, 5)]
    alone = [render_progress_chart(c) for c in charts]
    assert await asyncio.gather(*(render_off_loop(c) for c in charts)) == alone


@pytest.mark.parametrize("home_is_writable", [True, False])
def test_matplotlib_gets_a_temporary_config_dir_only_when_home_is_not_writable(
    tmp_path: Path, home_is_writable: bool
) -> None:
    home = tmp_path / "home"
    if home_is_writable:
        home.mkdir()
    else:
        home.write_text("a file where a directory should be: nothing can be made under it")
    env = {k: v for k, v in os.environ.items() if k != "MPLCONFIGDIR" and not k.startswith("XDG_")}
    env["HOME"] = str(home)
    code = (
        "import os, bot.charts as c\n"
        "assert c.render_empty().startswith(b'\\x89PNG')\n"
        "print(os.environ.get('MPLCONFIGDIR', ''))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "temporary cache directory" not in done.stderr
    assert "not a writable directory" not in done.stderr
    config_dir = done.stdout.strip()
    if home_is_writable:
        assert config_dir == "" and (home / ".cache" / "matplotlib").is_dir()
    else:
        assert "okr-bot-matplotlib-" in config_dir
        assert not Path(config_dir).exists()  # removed at exit
