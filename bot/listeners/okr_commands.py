"""`/okr show|align|unalign|share` and the lists (`mine`, `company`, `tree`). Answers after
the commit."""

from __future__ import annotations

from bot.blocks.help import CommandHelp
from bot.blocks.key_result_page import build_key_result_page, key_result_page_text
from bot.blocks.lists import build_listing
from bot.blocks.okrs import build_objective_page
from bot.blocks.text import escape
from bot.listeners.command_call import CommandCall
from bot.listeners.home_refresh import refresh_home_soon
from bot.services import key_result_page, lists, objectives, reading
from bot.services.errors import Invalid

SHOW_HELP = (
    CommandHelp(
        "/okr show O7|KR12",
        "an objective with its key results, or a key result with its check-in history",
    ),
)
ALIGN_HELP = (
    CommandHelp("/okr align O7 to O2", "say which objective O7 serves"),
    CommandHelp("/okr unalign O7", "take O7 out of the tree"),
)
LIST_HELP = (
    CommandHelp("/okr mine", "your key results and objectives, and their progress"),
    CommandHelp("/okr company", "the company's objectives and what is aligned below them"),
    CommandHelp("/okr tree [O7]", "the whole alignment tree, or the part under O7"),
)
SHARE_HELP = (CommandHelp("/okr share O7 with #team", "another team owns O7 too"),)


async def run_show(call: CommandCall) -> None:
    if len(call.args) != 1:
        raise Invalid("Name one objective or key result: `/okr show O7` or `/okr show KR12`.")
    actor = await call.actor()
    if call.args[0].upper().startswith("KR"):
        kr_page = await key_result_page.key_result_page(
            call.sessions, actor=actor, ref=call.args[0]
        )
        await call.reply(key_result_page_text(kr_page), build_key_result_page(kr_page))
        return
    page = await reading.show(call.sessions, actor=actor, ref=call.args[0])
    await call.reply(f"{page.ref} {escape(page.title)}", build_objective_page(page))


async def run_align(call: CommandCall) -> None:
    args = [a for a in call.args if a.lower() != "to"]
    if len(args) != 2:
        raise Invalid(f"Try `{ALIGN_HELP[0].usage}`.")
    actor = await call.actor()
    child, parent = await objectives.align(
        call.sessions, actor=actor, child_ref=args[0], parent_ref=args[1]
    )
    refresh_home_soon(call.sessions, call.client, actor)
    await call.reply(f"{child} now serves {parent}. `/okr show {parent}` shows both.")


async def run_unalign(call: CommandCall) -> None:
    if len(call.args) != 1:
        raise Invalid(f"Try `{ALIGN_HELP[1].usage}`.")
    actor = await call.actor()
    ref = await objectives.unalign(call.sessions, actor=actor, ref=call.args[0])
    await call.reply(f"{ref} is no longer aligned to anything.")


async def run_mine(call: CommandCall) -> None:
    actor = await call.actor()
    listing = await lists.mine(call.sessions, actor=actor)
    empty = "You own no key results in this cycle yet. `/okr new` writes an objective."
    await call.reply("Your OKRs", build_listing("Your OKRs", listing, empty=empty))


async def run_company(call: CommandCall) -> None:
    actor = await call.actor()
    listing = await lists.company(call.sessions, actor=actor)
    empty = "No company objectives in this cycle yet. A facilitator writes them with `/okr new`."
    await call.reply(
        "Company OKRs", build_listing("Company OKRs", listing, empty=empty, with_key_results=False)
    )


async def run_tree(call: CommandCall) -> None:
    actor = await call.actor()
    listing = await lists.tree(
        call.sessions, actor=actor, under=call.args[0] if call.args else None
    )
    await call.reply(
        "Alignment tree",
        build_listing(
            "Alignment tree", listing, empty="No objectives yet.", with_key_results=False
        ),
    )


async def run_share(call: CommandCall) -> None:
    args = [a for a in call.args if a.lower() != "with"]
    if len(args) < 2:
        raise Invalid(f"Try `{SHARE_HELP[0].usage}`.")
    actor = await call.actor()
    ref, name = await objectives.share(
        call.sessions, actor=actor, ref=args[0], team_name=" ".join(args[1:])
    )
    await call.reply(f"{ref} is now shared with {escape(name)}.")
