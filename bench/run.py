"""`make bench`: every benchmark, as a ratio to a baseline measured in the same run.

Machines here are noisy, so no figure stands alone: each row runs its subject and its
baseline interleaved, several rounds, and reports the median of the per-round ratios.
Prints a table and writes bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.limits import WORKSPACE_MESSAGES_PER_MINUTE

RESULTS = Path(__file__).with_name("RESULTS.md")


@dataclass
class Row:
    name: str
    subject: str  # the subject's figure, e.g. "2,950 calls/s"
    baseline: str
    ratio: float  # subject / baseline: above 1 is faster for rates, slower for latencies
    note: str


async def _rate(call: Callable[[], Awaitable[object]], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await call()
    return count / (time.perf_counter() - started)


async def post_message_rate(*, calls: int = 1500, rounds: int = 5) -> Row:
    """chat.postMessage through AsyncWebClient: the emulator (limits off) against a bare
    aiohttp handler answering {"ok": true} on the same loop."""

    async def bare(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "channel": "C1", "ts": "1.000001"})

    bare_app = web.Application()
    bare_app.router.add_post("/api/{method}", bare)
    runner = web.AppRunner(bare_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bare_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async with SlackEmulator() as slack:
        ws = slack.add_workspace("Bench")
        channel = slack.add_channel(ws, "bench").id
        emulated = AsyncWebClient(token=ws.bot_token, base_url=slack.api_url)
        baseline = AsyncWebClient(token=ws.bot_token, base_url=f"http://127.0.0.1:{bare_port}/api/")
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*KR12* 45 of 50"}}]

        def post(client: AsyncWebClient) -> Callable[[], Awaitable[object]]:
            return lambda: client.chat_postMessage(channel=channel, text="check-in", blocks=blocks)

        await _rate(post(emulated), 100)  # warm-up
        await _rate(post(baseline), 100)
        ratios, subject_rates, base_rates = [], [], []
        for _ in range(rounds):
            s = await _rate(post(emulated), calls)
            b = await _rate(post(baseline), calls)
            subject_rates.append(s)
            base_rates.append(b)
            ratios.append(s / b)
    await runner.cleanup()
    return Row(
        name="chat.postMessage through AsyncWebClient: emulator vs bare handler",
        subject=f"{statistics.median(subject_rates):,.0f} calls/s",
        baseline=f"{statistics.median(base_rates):,.0f} calls/s",
        ratio=statistics.median(ratios),
        note=f"{rounds} rounds x {calls} sequential calls, limits off",
    )


async def okr_mine_rows() -> list[Row]:
    from bench.okr_mine import okr_mine_latency

    subject, baseline, how, p50, p99 = await okr_mine_latency()
    name = "/okr mine (20 of 5,000 key results) vs /hello, signed request to answer"
    # Each figure reads "p50 X ms, p99 Y ms": each row shows its own half.
    s50, s99 = subject.split(", ")
    b50, b99 = baseline.split(", ")
    return [
        Row(name + ": p50", s50.removeprefix("p50 "), b50.removeprefix("p50 "), p50, how),
        Row(name + ": p99", s99.removeprefix("p99 "), b99.removeprefix("p99 "), p99, "same run"),
    ]


async def post_message_rows() -> list[Row]:
    return [await post_message_rate()]


async def fanout_rows() -> list[Row]:
    from bench.fanout import OWNERS_PER_TEAM, PACE, TEAMS, TIME_SCALE, fanout

    rows: list[Row] = []
    for scale, goal in ((TIME_SCALE, 1.15), (2 * TIME_SCALE, 1.25)):
        f = await fanout(scale)
        name = (
            f"weekly fan-out: {TEAMS} teams, {TEAMS * OWNERS_PER_TEAM:,} owners due in one "
            f"minute (prompts + DMs), emulator limits on, time scale x{scale:g}"
        )
        met = "met" if f["ratio"] <= goal else "MISSED"
        how = (
            f"one `python -m bot clock` process on SQLite, sending at {PACE:.0%} of the budget; "
            f"floor = {f['expected']:,.0f} messages / {300 * scale:,.0f} a minute; goal at most "
            f"{goal:g}: {met}; first post {f['first_post']:.1f} s after start; duplicates "
            f"{f['duplicates']:.0f}, losses {f['losses']:.0f}, 429s {f['rate_limited']:.0f}; "
            f"clock CPU {f['clock_cpu']:.1f} s in all"
        )
        cpu = (
            f"the clock's CPU from its first post to its last record ({f['sending_cpu']:.1f} s) "
            f"per message sent, against {BARE_CALLS_NOTE} (the same DM, blocks and metadata) "
            "through one AsyncWebClient and one reused HTTP session in a process of their own"
        )
        rows += [
            Row(name + ": wall time / floor", f"{f['wall']:.1f} s", f"{f['floor']:.1f} s",
                f["ratio"], how),
            Row("same: clock CPU per message / bare chat.postMessage CPU",
                f"{f['cpu_per_message'] * 1000:.2f} ms", f"{f['bare_post_cpu'] * 1000:.2f} ms",
                f["cpu_ratio"], cpu),
        ]  # fmt: skip
        if scale == TIME_SCALE:
            memory = (
                f"peak {f['peak_mib']:.0f} MiB during the fan-out vs {f['idle_mib']:.0f} MiB "
                "idling over the same data (a Sunday: nothing due)"
            )
            rows.append(
                Row(
                    "same: clock peak memory / idle clock",
                    f"{f['peak_mib']:.0f} MiB",
                    f"{f['idle_mib']:.0f} MiB",
                    f["memory_ratio"],
                    memory,
                )  # fmt: skip
            )
    return rows


BARE_CALLS_NOTE = "500 sequential bare chat.postMessage calls"


def _seconds(value: float, *, cap: float) -> str:
    """A latency; at the generator's wait it is only a lower bound."""
    return f">= {cap:.0f} s (no answer)" if value >= cap else f"{value * 1000:,.0f} ms"


async def load_rows() -> list[Row]:
    from bench import load as lb

    r = await lb.load()
    offered = r["people"] / lb.MEAN_INTERVAL
    name = (
        f"load: {r['people']} people over signed HTTP against PostgreSQL for "
        f"{lb.LOAD_SECONDS:.0f} s "
        f"(each every {lb.MEAN_INTERVAL:g} s, ~{offered:.0f} requests/s) while the clock runs a "
        "round: ack time vs /hello in the same load"
    )
    statuses = ", ".join(f"{k or 'none'}: {v:,}" for k, v in sorted(r["statuses"].items()))
    mix = ", ".join(f"{k} {v:,}" for k, v in sorted(r["kinds"].items()))
    how = (
        f"app server (`serve` + /hello, WEB_CONCURRENCY={r['web_processes']}) in its own "
        "processes, started and warmed up before the round is due; `python -m bot clock` "
        f"sending the "
        f"round ({r['prompts']} prompts, {r['dms']} DMs of {r['round_expected']}), emulator and "
        f"open-loop generator (aiohttp, loop lag p99 {r['lag_p99'] * 1000:.0f} ms) in a third; "
        f"{r['requests']:,} requests in {r['load_seconds']:.0f} s incl. {r['hello_count']} "
        f"/hello at {lb.HELLO_PER_SECOND:g}/s; mix: {mix}; server CPU {r['server_cpu']:.0f} s, "
        f"generator {r['generator_cpu']:.0f} s, clock {r['clock_cpu']:.0f} s; "
        f"row wall {r['wall']:.0f} s"
    )
    p99_goal = "met" if r["p99"] < lb.GOAL_P99 else "MISSED"
    deadline_goal = "met" if r["max"] < lb.ACK_DEADLINE else "MISSED"
    errors_goal = "met" if r["server_errors_5xx"] == 0 else "MISSED"
    acks = (
        f"goal p99 < {lb.GOAL_P99:g} s: {p99_goal}; "
        f"every ack < {lb.ACK_DEADLINE:g} s: {deadline_goal} "
        f"(max {_seconds(r['max'], cap=lb.TIMEOUT)}, {r['over_deadline']:,} of {r['requests']:,} "
        f"over {lb.ACK_DEADLINE:g} s or unanswered; {r['answered_in_time']:,} answered 200 in "
        f"time); 5xx: {r['server_errors_5xx']} (goal 0): {errors_goal}; statuses {statuses} "
        f"(none = no answer in {lb.TIMEOUT:g} s); server log: "
        + "; ".join(f"{k} x{v:,}" for k, v in r["server_log"].items())
    )
    exact = "met" if r["once"] == r["sent"] and not r["unexpected"] else "MISSED"
    replies = (
        f"every (key result, source, value) sent compared with the check-in rows after the "
        f"inbox was emptied (spool: {r['spooled_left']:,} left after {r['settle_seconds']:.0f} s, "
        f"drained {r['spool_drained_after']:,}; inbox rows put through the retry "
        f"{r['retried']:,}, still unprocessed {r['still_unprocessed']}); exactly once: {exact}; "
        f"asked to try again (nothing recorded, as they were told) {r['try_again']:,}; "
        f"missing {r['missing']:,} ({r['missing_answered_200']} of them answered 200, goal 0; "
        "by source and status: "
        + ", ".join(f"{k} x{v:,}" for k, v in sorted(r["missing_by"].items()))
        + f"), duplicated {r['duplicated']}, unexpected {r['unexpected']}; forms not opened "
        f"{r['forms_missing']:,}, refused {r['refused_forms']}; Slack's redelivery of "
        "unanswered events is not simulated"
    )
    return [
        Row(name + ": p50", _seconds(r["p50"], cap=lb.TIMEOUT), _seconds(r["b50"], cap=lb.TIMEOUT),
            r["p50"] / r["b50"], how),
        Row("same: p99", _seconds(r["p99"], cap=lb.TIMEOUT), _seconds(r["b99"], cap=lb.TIMEOUT),
            r["p99"] / r["b99"], acks),
        Row("same: replies and check-ins recorded exactly once / sent",
            f"{r['once']:,} once", f"{r['sent']:,} sent", r["once"] / max(1, r["sent"]), replies),
    ]  # fmt: skip


async def parse_time_rows() -> list[Row]:
    from bench.parse_time import SHAPES, parse_time

    large, small = parse_time()
    ratio = large / small
    goal = "met" if ratio <= 20 else "MISSED"
    return [
        Row(
            "parse_reply on adversarial input: 100 kB vs 10 kB, best of 5",
            f"{large * 1000:.2f} ms",
            f"{small * 1000:.2f} ms",
            ratio,
            f"shapes: {', '.join(SHAPES)} (over the reply caps the text is only scanned for a "
            f"key result, then refused); linear is about 10; goal at most 20: {goal}",
        )
    ]


async def digest_rows() -> list[Row]:
    from bench import digest as db

    t = await db.digest_time()
    c = db.chart_time()
    f = await db.digest_fanout()
    met = "met" if t["ratio"] <= db.DIGEST_GOAL else "MISSED"
    exact = "met" if f["duplicates"] == 0 and f["losses"] == 0 else "MISSED"
    per_minute = WORKSPACE_MESSAGES_PER_MINUTE * db.FANOUT_SCALE
    return [
        Row(f"digest time: a team's digest composed as the sender does, in a batch of "
            f"{t['batch']} teams due at once (PostgreSQL, {db.TEAMS} teams, "
            f"{db.TEAMS * db.KEY_RESULTS_PER_TEAM:,} key results, {db.HISTORY} periods of "
            f"check-ins) vs the same digest built from its rows already fetched (read model "
            f"computed from the rows, then the blocks)",
            f"{t['composed'] * 1000:.2f} ms", f"{t['built'] * 1000:.2f} ms", t["ratio"],
            f"per digest, median of {db.ROUNDS} rounds, each in a fresh reader session, "
            f"interleaved; subject: the batch's reads (one set for all {t['batch']}) and builds; "
            f"baseline: each team's rows fetched once beforehand (not timed), then read model "
            f"and blocks (mean of {db.BUILDS}); {t['checkins']:,} check-ins seeded in "
            f"{t['seed_seconds']:.0f} s; {t['statements']:.0f} statements a batch, "
            f"{t['in_database'] * 1000:.2f} ms a digest (mean) in the database driver; "
            f"the batch's check-in rows alone through the bare driver (no SQLAlchemy) "
            f"{t['bare'] * 1000:.2f} ms a digest; a digest composed alone "
            f"{t['alone'] * 1000:.1f} ms; "
            f"{t['blocks_per_digest']:.0f} blocks a digest, {t['parts']} parts for "
            f"{db.SAMPLE} teams; goal at most {db.DIGEST_GOAL:g}: {met}"),
        Row(f"chart time: render_progress_chart ({db.CHART_OBJECTIVES} objectives x "
            f"{db.HISTORY} periods) vs render_empty of the same size",
            f"{c['chart'] * 1000:.1f} ms", f"{c['empty'] * 1000:.1f} ms", c["ratio"],
            f"median of {db.CHART_RUNS} interleaved runs after a warm-up; "
            f"{c['bytes'] / 1024:.0f} kB PNG"),
        Row(f"digest fan-out: {f['expected']} teams' digests due at once at D, emulator limits "
            f"on, time scale x{db.FANOUT_SCALE:g}: wall time / floor",
            f"{f['wall']:.1f} s", f"{f['floor']:.1f} s", f["ratio"],
            f"one `python -m bot clock` process on SQLite started at D of a round whose prompts "
            f"and DMs are over, sending at {db.PACE:.0%} of the budget; floor = "
            f"{f['expected']} messages / {per_minute:,.0f} a minute; first post "
            f"{f['first_post']:.1f} s after start; duplicates {f['duplicates']}, losses "
            f"{f['losses']} (goal 0): {exact}; 429s {f['rate_limited']}; other posts "
            f"{sum(f['other_keys'].values()) + f['dms']}; clock CPU {f['clock_cpu']:.1f} s"),
    ]  # fmt: skip


async def pull_rows() -> list[Row]:
    from bench import pulls as pb

    rows = []
    for backend in ("sqlite", "postgresql"):
        p = await pb.pull_time(backend)
        rows.append(
            Row(f"metric pulls before one round ({backend}): {pb.KEY_RESULTS:,} key results with "
                f"sources on an allow-listed local server answering after "
                f"{pb.LATENCY * 1000:.0f} ms, tick + pull runner vs a bare httpx loop of the "
                f"same fetches, both {pb.CONCURRENCY} at once",
                f"{p['subject']:.1f} s", f"{p['baseline']:.1f} s", p["ratio"],
                f"median of {pb.ROUNDS} interleaved rounds (one a week); subject: the tick "
                f"queues the pulls, the runner claims, fetches through the pinned transport and "
                f"records each value through the check-in intake; baseline: GET, JSON, field; "
                f"floor {p['floor']:.1f} s; {p['recorded']:,} of {p['expected']:,} pulled "
                f"values recorded"),
        )  # fmt: skip
    return rows


BENCHMARKS: list[Callable[[], Awaitable[list[Row]]]] = [
    post_message_rows,
    okr_mine_rows,
    fanout_rows,
    load_rows,
    parse_time_rows,
    digest_rows,
    pull_rows,
]


def machine() -> str:
    system, cores, python = platform.system(), os.cpu_count(), platform.python_version()
    return f"{system} {platform.machine()}, {cores} cores, Python {python}"


def table(rows: list[Row]) -> str:
    lines = [
        "| benchmark | subject | baseline | ratio | how |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.name} | {r.subject} | {r.baseline} | {r.ratio:.2f} | {r.note} |" for r in rows]
    return "\n".join(lines)


async def main() -> int:
    rows = [row for bench in BENCHMARKS for row in await bench()]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        "# Benchmark results\n\n"
        f"Measured {now} on {machine()}. Every ratio compares a subject with a baseline "
        "measured in the same run: for rates (calls/s) subject / baseline, above 1 is faster; "
        "for latencies subject / baseline, above 1 is slower.\n\n"
        f"{table(rows)}\n"
    )
    RESULTS.write_text(text)
    print(table(rows))
    print("\nwritten to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
