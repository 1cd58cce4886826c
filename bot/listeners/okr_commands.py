"""`/okr show`, `/okr update`, `/okr align`, `/okr unalign`. Answers after the commit."""

from __future__ import annotations

from bot import clock
from bot.blocks.help import CommandHelp
from bot.blocks.lists import build_listing
from bot.blocks.okrs import build_objective_page, number, progress_bar
from bot.blocks.text import escape, section
from bot.listeners.command_call import CommandCall
from bot.listeners.home_refresh import refresh_home_soon
from bot.services import checkins, lists, objectives, reading, teams
from bot.services.errors import Invalid
from bot.services.okr_lookup import objective_by_ref

SHOW_HELP = (CommandHelp("/okr show O7|KR12", "an objective, its key results and progress"),)
UPDATE_HELP = (CommandHelp("/okr update KR12 45 [note]", "check in a new value"),)
ALIGN_HELP = (
    CommandHelp("/okr align O7 to O2", "say which objective O7 serves"),
    CommandHelp("/okr unalign O7", "take O7 out of the tree"),
)


async def run_show(call: CommandCall) -> None:
    if len(call.args) != 1:
        raise Invalid("Name one objective or key result: `/okr show O7` or `/okr show KR12`.")
    actor = await call.actor()
    async with call.readers() as session:
        page = await reading.objective_page(session, actor=actor, ref=call.args[0])
    await call.reply(f"{page.ref} {page.title}", build_objective_page(page))


async def run_update(call: CommandCall) -> None:
    if len(call.args) < 2:
        raise Invalid(f"Name the key result and the value: `{UPDATE_HELP[0].usage}`.")
    actor = await call.actor()
    async with call.sessions.begin() as session:
        done = await checkins.record_update(
            session,
            actor=actor,
            key_result_ref=call.args[0],
            value_text=call.args[1],
            note=" ".join(call.args[2:]),
            source_ref=str(call.body.get("trigger_id") or call.body.get("command_ts") or ""),
            now=clock.now(),
        )
    refresh_home_soon(call.sessions, call.client, actor)
    text = (
        f"Recorded *{done.ref}* {escape(done.title)}: {number(done.value, done.unit)} "
        f"of {number(done.target, done.unit)} for {done.period}."
    )
    await call.reply(text, [section(f"{text}\n{progress_bar(done.progress)}")])


async def run_align(call: CommandCall) -> None:
    args = [a for a in call.args if a.lower() != "to"]
    if len(args) != 2:
        raise Invalid(f"Try `{ALIGN_HELP[0].usage}`.")
    actor = await call.actor()
    async with call.sessions.begin() as session:
        child, parent = await objectives.align(
            session, actor=actor, child_ref=args[0], parent_ref=args[1]
        )
    refresh_home_soon(call.sessions, call.client, actor)
    await call.reply(f"{child} now serves {parent}. `/okr show {parent}` shows both.")


async def run_unalign(call: CommandCall) -> None:
    if len(call.args) != 1:
        raise Invalid(f"Try `{ALIGN_HELP[1].usage}`.")
    actor = await call.actor()
    async with call.sessions.begin() as session:
        ref = await objectives.unalign(session, actor=actor, ref=call.args[0])
    await call.reply(f"{ref} is no longer aligned to anything.")


LIST_HELP = (
    CommandHelp("/okr mine", "your key results and their progress"),
    CommandHelp("/okr company", "the company's objectives and what is aligned below them"),
    CommandHelp("/okr tree [O7]", "the whole alignment tree, or the part under O7"),
)


async def run_mine(call: CommandCall) -> None:
    actor = await call.actor()
    async with call.readers() as session:
        listing = await lists.my_okrs(session, actor=actor)
    empty = "You own no key results in this cycle yet. `/okr new` writes an objective."
    await call.reply("Your OKRs", build_listing("Your OKRs", listing, empty=empty))


async def run_company(call: CommandCall) -> None:
    actor = await call.actor()
    async with call.readers() as session:
        listing = await lists.cycle_tree(session, actor=actor, levels=("company",))
    empty = "No company objectives in this cycle yet. A facilitator writes them with `/okr new`."
    await call.reply(
        "Company OKRs", build_listing("Company OKRs", listing, empty=empty, with_key_results=False)
    )


async def run_tree(call: CommandCall) -> None:
    actor = await call.actor()
    async with call.readers() as session:
        listing = await lists.cycle_tree(session, actor=actor)
        if call.args:
            wanted = await objective_by_ref(session, actor=actor, ref=call.args[0])
            listing = _subtree(listing, wanted.id)
    await call.reply(
        "Alignment tree",
        build_listing(
            "Alignment tree", listing, empty="No objectives yet.", with_key_results=False
        ),
    )


def _subtree(listing: lists.Listing, objective_id: int) -> lists.Listing:
    stack = list(listing.objectives)
    while stack:
        node = stack.pop()
        if node.id == objective_id:
            return lists.Listing(listing.cycle, [node])
        stack.extend(node.children)
    raise Invalid("That objective is not in the active cycle.")


SHARE_HELP = (CommandHelp("/okr share O7 with #team", "another team owns O7 too"),)


async def run_share(call: CommandCall) -> None:
    args = [a for a in call.args if a.lower() != "with"]
    if len(args) < 2:
        raise Invalid(f"Try `{SHARE_HELP[0].usage}`.")
    actor = await call.actor()
    async with call.sessions.begin() as session:
        team = await teams.find_team(
            session, actor=actor, name_or_channel=" ".join(args[1:]), channel_id=None
        )
        ref, name = await objectives.share(session, actor=actor, ref=args[0], team=team)
    await call.reply(f"{ref} is now shared with {escape(name)}.")
