"""The push API as a FastAPI app, served by the web front under `/api/`.

`POST /api/v1/key-results/{ref}/checkins` with `Authorization: Bearer <token>` (a workspace
token from `/okr token create`) records a check-in; the OpenAPI document is published at
`/api/v1/openapi.json` (and read at `/api/docs`). The body is read by the service, so any
bad body is a 422 that names the field, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.services.api_checkins import BODY_MAX, problem, push_checkin

API_PREFIX = "/api"


class CheckinBody(BaseModel):
    """The body (documented here, read by `bot.services.api_checkins`)."""

    value: float | str = Field(
        description='A number, or text the value grammar reads: "45%", "1.2k", "$12,000", "done"'
    )
    confidence: int | None = Field(default=None, ge=0, le=10)
    status: str | None = Field(default=None, description="on_track, at_risk or off_track")
    note: str | None = Field(default=None, max_length=2000)


class CheckinRecorded(BaseModel):
    key_result: str
    period: str
    value: float
    confidence: int | None
    status: str | None
    note: str | None
    source: str = "api"
    token: str


class Problem(BaseModel):
    error: str
    field: str | None = None


def _bearer(authorization: str | None) -> str:
    if not authorization:
        return ""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def build_api(*, sessions: async_sessionmaker[AsyncSession], requests_per_minute: int) -> FastAPI:
    api = FastAPI(
        title="OKR check-in push API",
        version="1",
        openapi_url=f"{API_PREFIX}/v1/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )

    @api.post(
        f"{API_PREFIX}/v1/key-results/{{ref}}/checkins",
        status_code=201,
        response_model=CheckinRecorded,
        responses={
            401: {"model": Problem, "description": "Missing, unknown or revoked token"},
            404: {"model": Problem, "description": "No such key result in the token's workspace"},
            422: {"model": Problem, "description": "A bad body; `field` names what to fix"},
            429: {"model": Problem, "description": "Over the token's requests a minute"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": CheckinBody.model_json_schema()}},
            }
        },
    )
    async def post_checkin(
        request: Request,
        ref: Annotated[str, Path(max_length=20, description="The key result, like KR12")],
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[
            str | None, Header(description="Repeats with the same key get the first answer")
        ] = None,
    ) -> JSONResponse:
        """Record a check-in on a key result of the token's workspace, as the token."""
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > BODY_MAX:
                break
        answer = await push_checkin(
            sessions,
            token=_bearer(authorization),
            ref=ref,
            raw=raw,
            idempotency_key=idempotency_key,
            now=clock.now(),
            per_minute=requests_per_minute,
        )
        headers: dict[str, Any] = dict(answer.headers)
        if answer.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)

    @api.exception_handler(RequestValidationError)
    async def _unreadable(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own checks (the path, the headers) answer in the same shape."""
        errors = list(exc.errors())
        where = str(errors[0]["loc"][-1]) if errors and errors[0].get("loc") else None
        body = problem(422, "That request cannot be read.", where).body
        return JSONResponse(body, status_code=422)

    return api
