"""Reading a Web API request as Slack does: arguments from the query string, a form or a
JSON body, the token from the Authorization header or the arguments."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

JSON_ARGUMENTS = ("blocks", "view", "metadata", "files", "attachments")


async def read_arguments(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    raw = await request.read()
    if raw:
        text = raw.decode("utf-8", errors="replace")
        if request.content_type == "application/json" or text.lstrip().startswith("{"):
            try:
                body = json.loads(text)
            except ValueError:
                body = {}
            if isinstance(body, dict):
                args.update(body)
        else:
            args.update(parse_qsl(text, keep_blank_values=True))
    for key in JSON_ARGUMENTS:
        value = args.get(key)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except ValueError:
                pass  # left as text: the method answers with its own format error
    return args


def bearer_token(request: web.Request, args: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    token = args.pop("token", None)
    return str(token) if token else None


def basic_client(request: web.Request, args: dict[str, Any]) -> None:
    """oauth.v2.access may carry client id and secret as HTTP Basic credentials."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return
        args.setdefault("client_id", client_id)
        args.setdefault("client_secret", secret)


def drop_connection(request: web.Request) -> web.Response:
    """Cut the connection without an answer (the client sees a reset)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=499)


async def read_upload(request: web.Request) -> bytes:
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader):
                return bytes(await part.read())
        return b""
    return await request.read()
