"""Web API methods of the emulator; importing this package registers them all."""

from bot.sandbox.emulator.methods import chat, conversations, files, identity, oauth, views
from bot.sandbox.emulator.methods.registry import METHODS, Call, MethodSpec

__all__ = [
    "METHODS",
    "Call",
    "MethodSpec",
    "chat",
    "conversations",
    "files",
    "identity",
    "oauth",
    "views",
]
