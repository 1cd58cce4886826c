"""`/okr mine` from the signed request to what the person sees, against the same `serve` stack
answering a `/hello` command the same way: p50 and p99 as ratios."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from slack_bolt.context.ack.async_ack import AsyncAck
from sqlalchemy import insert

from bot import clock, migrate
from bot.config import database_urls
from bot.models import KeyResult, Objective
from bot.sandbox.stack import SandboxStack
from bot.services import key_results, objectives
from bot.services.actors import actor_for

WORKSPACE_KEY_RESULTS = 5_000
MINE = 20
WARM_UP, MEASURED = 50, 500


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def okr_mine_latency() -> tuple[str, str, str, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(database_urls(url))
        async with SandboxStack(database_url=url, over_http=True) as stack:
            assert stack.app is not None and stack.ws is not None and stack.driver is not None

            async def hello(ack: AsyncAck) -> None:
                await ack(text="Hello!")

            stack.app.command("/hello")(hello)
            person = stack.slack.add_user(stack.ws, "pat")
            async with stack.app.sessions.begin() as session:
                me = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id=person.id)
                other = await actor_for(session, slack_team_id=stack.ws.id, slack_user_id="U0OTHER")
                await objectives.create_objective(
                    session, actor=me, title="Mine", level="personal", today=clock.now().date()
                )
                for i in range(MINE):
                    await key_results.add_key_result(
                        session, actor=me, objective_ref="O1", title=f"Mine {i}", start=0, target=10
                    )
                await objectives.create_objective(
                    session, actor=other, title="Theirs", level="personal", today=clock.now().date()
                )
                theirs = await session.scalar(
                    Objective.__table__.select()
                    .with_only_columns(Objective.id)
                    .where(Objective.ref_number == 2)
                )
                await session.execute(
                    insert(KeyResult),
                    [
                        {
                            "workspace_id": me.workspace_id,
                            "ref_number": 1000 + i,
                            "objective_id": theirs,
                            "owner_person_id": other.person_id,
                            "title": f"Theirs {i}",
                            "start_value": 0.0,
                            "target_value": 10.0,
                            "kind": "number",
                            "unit": "",
                            "direction": "increase",
                            "weight": 1.0,
                            "state": "active",
                            "created_at": clock.now(),
                            "updated_at": clock.now(),
                        }
                        for i in range(WORKSPACE_KEY_RESULTS - MINE)
                    ],
                )

            async def one(command: str) -> float:
                started = time.perf_counter()
                answer = await stack.driver.command(
                    person,
                    "" if command == "/hello" else "mine",  # type: ignore[union-attr]
                    command=command,
                )
                assert answer.status == 200 and answer.body
                if command == "/okr":
                    assert "Mine 19" in answer.body, answer.body[
                        :300
                    ]  # the real list, not an error
                return time.perf_counter() - started

            for _ in range(WARM_UP):
                await one("/okr")
                await one("/hello")
            mine, hello_times = [], []
            for _ in range(MEASURED):  # interleaved, so both see the same machine
                mine.append(await one("/okr"))
                hello_times.append(await one("/hello"))
    p50, p99 = statistics.median(mine), _percentile(mine, 0.99)
    b50, b99 = statistics.median(hello_times), _percentile(hello_times, 0.99)
    return (
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
        f"p50 {b50 * 1000:.1f} ms, p99 {b99 * 1000:.1f} ms",
        f"{WARM_UP} warm-up, {MEASURED} measured, sequential, over HTTP, SQLite",
        p50 / b50,
        p99 / b99,
    )
