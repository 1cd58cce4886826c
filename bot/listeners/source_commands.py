"""`/okr source`, `/okr refresh` and `/okr token`: metric sources and push API tokens.

`/okr source KR12 https://… path=data.total [header=Authorization secret=…]` sets a source;
everything after `secret=` is the secret (it may hold spaces: `secret=Bearer abc`), and it is
never shown back. Each answer is given after the transaction commits."""

from __future__ import annotations

from bot import clock
from bot.blocks.help import CommandHelp
from bot.blocks.sources import (
    TokenShown,
    refresh_text,
    source_text,
    token_created_text,
    tokens_text,
)
from bot.listeners.command_call import CommandCall
from bot.services import api_tokens, metric_sources
from bot.services.errors import Invalid

SOURCE_HELP = (
    CommandHelp(
        "/okr source KR12 https://… path=data.total [header=Authorization secret=…]",
        "pull a key result's value from a JSON URL before each round (`clear` removes it)",
    ),
)
REFRESH_HELP = (CommandHelp("/okr refresh KR12", "pull a key result's source now"),)
TOKEN_HELP = (
    CommandHelp(
        "/okr token create|list|revoke NAME",
        "push API tokens for other systems (facilitators)",
    ),
)
SETTINGS = ("path", "header", "secret")


def _url(word: str) -> str:
    """Slack may send a URL as `<https://…>` or `<https://…|label>`."""
    if word.startswith("<") and word.endswith(">"):
        return word[1:-1].split("|", 1)[0]
    return word


def parse_source(args: list[str]) -> tuple[str, dict[str, str]]:
    """The URL and the `name=value` settings; everything after `secret=` is the secret."""
    url = ""
    found: dict[str, str] = {}
    for number, word in enumerate(args):
        name, equals, value = word.partition("=")
        if equals and name.lower() == "secret":
            found["secret"] = " ".join([value, *args[number + 1 :]]).strip()
            break
        if equals and name.lower() in SETTINGS:
            found[name.lower()] = value
        elif not url and not equals:
            url = _url(word)
        else:
            raise Invalid(f"Write the source as `{SOURCE_HELP[0].usage}`.")
    if not url or "path" not in found:
        raise Invalid(f"Give the URL and the field path: `{SOURCE_HELP[0].usage}`.")
    return url, found


async def run_source(call: CommandCall) -> None:
    if not call.args:
        raise Invalid(f"Name the key result: `{SOURCE_HELP[0].usage}`.")
    ref, rest = call.args[0], call.args[1:]
    actor = await call.actor()
    now = clock.now()
    async with call.sessions.begin() as session:
        if not rest:
            view = await metric_sources.show_source(session, actor=actor, ref=ref)
            text = source_text(view, now=now)
        elif [w.lower() for w in rest] in (["clear"], ["remove"], ["none"]):
            cleared = await metric_sources.clear_source(session, actor=actor, ref=ref)
            text = f"{cleared} has no source now; its pulled check-ins stay."
        else:
            url, found = parse_source(rest)
            view = await metric_sources.set_source(
                session, actor=actor, ref=ref, url=url, path=found["path"],
                header=found.get("header"), secret=found.get("secret"), cipher=call.cipher,
            )  # fmt: skip
            text = source_text(view, now=now, saved=True)
    await call.reply(text)


async def run_refresh(call: CommandCall) -> None:
    if len(call.args) != 1:
        raise Invalid(f"Name one key result: `{REFRESH_HELP[0].usage}`.")
    actor = await call.actor()
    request = str(call.body.get("trigger_id") or call.body.get("command_ts") or "")
    async with call.sessions.begin() as session:
        ref = await metric_sources.request_refresh(
            session, actor=actor, ref=call.args[0], request_id=request, now=clock.now()
        )
    await call.reply(refresh_text(ref))


async def run_token(call: CommandCall) -> None:
    word = call.args[0].lower() if call.args else ""
    actor = await call.actor()
    now = clock.now()
    if word == "list" or not call.args:
        async with call.sessions() as session:
            rows = await api_tokens.list_tokens(session, actor=actor)
        shown = [TokenShown(r.name, r.created_by, r.created_at, r.last_used_at, r.revoked_at)
                 for r in rows]  # fmt: skip
        await call.reply(tokens_text(shown, now=now))
        return
    if word not in ("create", "revoke") or len(call.args) != 2:
        raise Invalid(f"Write `{TOKEN_HELP[0].usage}`, like `/okr token create ci-signups`.")
    name = call.args[1]
    async with call.sessions.begin() as session:
        if word == "create":
            token = await api_tokens.create_token(session, actor=actor, name=name)
        else:
            revoked = await api_tokens.revoke_token(session, actor=actor, name=name, now=now)
    if word == "create":
        await call.reply(token_created_text(name, token))
    else:
        await call.reply(f"Token {revoked} is revoked: requests with it are refused now.")
