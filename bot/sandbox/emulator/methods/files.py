"""files.getUploadURLExternal, the upload URL itself (served by the emulator), and
files.completeUploadExternal."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.emulator.methods.chat import target_channel
from bot.sandbox.emulator.methods.registry import Call, as_int, method
from bot.sandbox.emulator.state import ApiError, Message, UploadedFile

MAX_FILE_BYTES = 1024 * 1024 * 1024


@method("files.getUploadURLExternal", tier=4, scopes=("files:write",))
async def files_get_upload_url_external(call: Call) -> dict[str, Any]:
    length = as_int(call.arg("length"), -1)
    if length <= 0 or length > MAX_FILE_BYTES:
        raise ApiError("invalid_arguments", response_metadata={"messages": ["length"]})
    file = UploadedFile(call.state.new_id("F"), call.ws.id, str(call.arg("filename")), length)
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
        if file is None or file.team_id != call.ws.id:
            raise ApiError("file_not_found")
        if file.content is None:
            raise ApiError("file_upload_not_found")  # the bytes never reached the upload URL
        file.title = entry.get("title") or file.filename
        done.append(file)
    channel_id = call.args.get("channel_id")
    summary = [{"id": f.id, "name": f.filename, "title": f.title} for f in done]
    if channel_id:
        call.args["channel"] = channel_id
        channel = target_channel(call)
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
        for f in done:
            f.shared_in.append(channel.id)
    return {"files": summary}
