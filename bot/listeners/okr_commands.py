"""`/okr show`, `/okr update`, `/okr align`, `/okr unalign`. Answers after the commit."""

from __future__ import annotations

from bot.blocks.help import CommandHelp
from bot.blocks.lists import build_listing
from bot.blocks.okrs import build_objective_page
from bot.blocks.text import escape
from bot.listeners.command_call import CommandCall
from bot.listeners.home_refresh import refresh_home_soon
from bot.services import lists, objectives, reading, teams
from bot.services.errors import Invalid
from bot.services.okr_lookup import objective_by_ref

SHOW_HELP = (CommandHelp("/okr show O7|KR12", "an objective, its key results and progress"),)
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
