"""What Slack is answered when the bot cannot reach its records (the database is away, or a
stored token no longer decrypts): an event is spooled and acknowledged, or answered 503 when
even the spool cannot take it (Slack redelivers); a person gets one clear line."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.response import BoltResponse

from bot.spool import Spool, SpoolUnavailable

TRY_AGAIN = "I cannot reach my records right now: nothing was changed. Try again in a minute."


def spool_event(spool: Spool, body: dict[str, Any], *, team_id: str | None) -> BoltResponse:
    """Keep an event for the inbox; 200 once it is on disk, else 503 (Slack redelivers)."""
    try:
        spool.append(
            {
                "team_id": team_id or body.get("team_id"),
                "event_id": body.get("event_id"),
                "event": body.get("event") or {},
                "authorizations": body.get("authorizations") or [],
            }
        )
    except SpoolUnavailable:
        return BoltResponse(status=503, body="")
    return BoltResponse(status=200, body="")


def unavailable_answer(body: dict[str, Any], spool: Spool, *, team_id: str | None) -> BoltResponse:
    if body.get("type") == "event_callback":
        return spool_event(spool, body, team_id=team_id)
    if body.get("command"):
        return _json({"response_type": "ephemeral", "text": TRY_AGAIN})
    payload = body
    view = payload.get("view") or {}
    if payload.get("type") == "view_submission":
        inputs = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
        if inputs:
            return _json({"response_action": "errors", "errors": {inputs[0]: TRY_AGAIN}})
    return BoltResponse(status=200, body="")


def _json(body: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(body), headers={"content-type": "application/json"}
    )
