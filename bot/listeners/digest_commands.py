"""`/okr digest [post] [#channel|team name]`: a team's digest, to the asker or to its channel.

The post is answered after its transaction commits; the message itself goes through the
outbox like every other."""

from __future__ import annotations

from bot.blocks.help import CommandHelp
from bot.blocks.text import escape
from bot.listeners.command_call import CommandCall
from bot.services import digest_command

DIGEST_HELP = (
    CommandHelp("/okr digest [#channel|team]", "the team's digest of this week so far, to you"),
    CommandHelp(
        "/okr digest post [#channel|team]", "post the team's digest in its channel now (its lead)"
    ),
)


async def run_digest(call: CommandCall) -> None:
    args = list(call.args)
    posting = bool(args) and args[0].lower() == "post"
    named = " ".join(args[1:] if posting else args).strip() or None
    actor = await call.actor()
    channel_id = str(call.body.get("channel_id") or "") or None
    if not posting:
        shown = await digest_command.show(
            call.sessions, actor=actor, name_or_channel=named, channel_id=channel_id
        )
        await call.reply(shown.text, shown.blocks)
        return
    posted = await digest_command.post(
        call.sessions,
        actor=actor,
        name_or_channel=named,
        channel_id=channel_id,
        request_id=str(call.body.get("trigger_id") or ""),
    )
    parts = f" in {posted.parts} parts" if posted.parts > 1 else ""
    await call.reply(
        f"Posting {escape(posted.team_name)}'s digest for {posted.period}{parts} in its channel."
    )
