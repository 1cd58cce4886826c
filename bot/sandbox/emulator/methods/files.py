"""files.getUploadURLExternal, the upload URL itself (served by the emulator),
files.completeUploadExternal (shared into a channel, or private to the bot without one),
files.info and files.delete."""

from __future__ import annotations

import json
import mimetypes
from typing import Any
from urllib.parse import quote

from bot.sandbox.emulator.methods.chat import target_channel
from bot.sandbox.emulator.methods.registry import Call, as_int, method
from bot.sandbox.emulator.state import ApiError, Message, SlackState, UploadedFile

MAX_FILE_BYTES = 1024 * 1024 * 1024


def file_object(state: SlackState, file: UploadedFile) -> dict[str, Any]:
    """A file as the Web API shows it. Type fields stay empty until Slack has processed
    the upload, as they do on Slack (clients poll files.info for `mimetype`)."""
    ws = state.workspaces[file.team_id]
    ready = file.ready_at is not None and state.clock() >= file.ready_at
    mimetype = mimetypes.guess_type(file.filename)[0] or "application/octet-stream"
    extension = file.filename.rpartition(".")[2].lower() if "." in file.filename else ""
    name = quote(file.filename)
    channels = [state.channels[c] for c in file.shared_in if c in state.channels]
    data: dict[str, Any] = {
        "id": file.id,
        "created": int(file.created),
        "timestamp": int(file.created),
        "name": file.filename,
        "title": file.title or file.filename,
        "mimetype": mimetype if ready else "",
        "filetype": extension if ready else "",
        "user": file.user,
        "user_team": file.team_id,
        "mode": "hosted",
        "is_external": False,
        "size": len(file.content or b""),
        "url_private": f"https://files.slack.com/files-pri/{file.team_id}-{file.id}/{name}",
        "url_private_download": (
            f"https://files.slack.com/files-pri/{file.team_id}-{file.id}/download/{name}"
        ),
        "permalink": f"https://{ws.domain}.slack.com/files/{file.user}/{file.id}/{name}",
        "is_public": any(not c.is_private and not c.is_im for c in channels),
        "channels": [c.id for c in channels if not c.is_private and not c.is_im],
        "groups": [c.id for c in channels if c.is_private and not c.is_im],
        "ims": [c.id for c in channels if c.is_im],
    }
    if file.alt_txt:
        data["alt_txt"] = file.alt_txt
    return data


def own_file(call: Call, file_id: Any) -> UploadedFile:
    """A completed file of this workspace; Slack's errors for anything else."""
    file = call.state.files.get(str(file_id or ""))
    if file is None or file.team_id != call.ws.id or file.completed_at is None:
        raise ApiError("file_not_found")
    if file.deleted:
        raise ApiError("file_deleted")
    return file


@method("files.getUploadURLExternal", tier=4, scopes=("files:write",))
async def files_get_upload_url_external(call: Call) -> dict[str, Any]:
    length = as_int(call.arg("length"), -1)
    if length <= 0 or length > MAX_FILE_BYTES:
        raise ApiError("invalid_arguments", response_metadata={"messages": ["length"]})
    alt_txt = call.args.get("alt_txt") or None
    assert call.token is not None
    file = UploadedFile(
        call.state.new_id("F"),
        call.ws.id,
        str(call.arg("filename")),
        length,
        user=call.token.user_id,
        alt_txt=str(alt_txt) if alt_txt else None,
        created=call.state.clock(),
    )
    call.state.files[file.id] = file
    return {"upload_url": f"{call.base_url}upload/{file.id}", "file_id": file.id}


@method("files.completeUploadExternal", tier=4, scopes=("files:write",))
async def files_complete_upload_external(call: Call) -> dict[str, Any]:
    raw = call.arg("files")
    entries = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(entries, list) or not entries:
        raise ApiError("invalid_arguments")
    done = []
    for entry in entries:
        file = call.state.files.get(str(entry.get("id")))
        if file is None or file.team_id != call.ws.id or file.deleted:
            raise ApiError("file_not_found")
        if file.content is None:
            raise ApiError("file_upload_not_found")  # the bytes never reached the upload URL
        done.append((file, entry.get("title")))
    channel = None
    if call.args.get("channel_id"):
        call.args["channel"] = call.args["channel_id"]
        channel = target_channel(call)
    now = call.state.clock()
    for file, title in done:
        file.title = title or file.title or file.filename
        if file.completed_at is None:  # completing twice changes nothing
            file.completed_at = now
            file.ready_at = now + call.state.file_processing_seconds
    summary = [file_object(call.state, f) for f, _ in done]
    if channel is not None:
        thread_ts = call.args.get("thread_ts") or None
        message = Message(
            channel=channel.id,
            ts=call.state.new_ts(),
            text=str(call.args.get("initial_comment") or ""),
            bot_id=call.ws.bot_id,
            user=call.ws.bot_user_id,
            thread_ts=str(thread_ts) if thread_ts else None,
            files=summary,
            subtype="file_share",
        )
        call.state.messages.setdefault(channel.id, []).append(message)
        for f, _ in done:
            f.shared_in.append(channel.id)
        summary = [file_object(call.state, f) for f, _ in done]
    return {"files": summary}


@method("files.info", tier=4, scopes=("files:read",))
async def files_info(call: Call) -> dict[str, Any]:
    file = own_file(call, call.arg("file"))
    return {
        "file": file_object(call.state, file),
        "comments": [],
        "response_metadata": {"next_cursor": ""},
    }


@method("files.delete", tier=3, scopes=("files:write",))
async def files_delete(call: Call) -> dict[str, Any]:
    file = own_file(call, call.arg("file"))
    assert call.token is not None
    if file.user != call.token.user_id:
        raise ApiError("cant_delete_file")
    file.deleted = True  # its bytes stay readable to tests
    return {}
