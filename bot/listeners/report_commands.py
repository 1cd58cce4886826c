"""`/okr report`: the facilitator's view of the practice, answered only to them."""

from __future__ import annotations

from bot.blocks.help import CommandHelp
from bot.blocks.report import build_report, report_text
from bot.listeners.command_call import CommandCall
from bot.services import report

REPORT_HELP = (
    CommandHelp(
        "/okr report",
        "facilitators and admins: participation per team and week, stale key results, "
        "quality findings and delivery problems (also sent by DM the day after the round)",
    ),
)


async def run_report(call: CommandCall) -> None:
    actor = await call.actor()
    found = await report.report(call.sessions, actor=actor)
    await call.reply(report_text(found), build_report(found))
