"""A stateful Slack Web API emulator on loopback (see `SlackEmulator`)."""

from bot.sandbox.emulator.server import SlackEmulator
from bot.sandbox.emulator.state import Channel, Message, SlackState, User, Workspace

__all__ = ["Channel", "Message", "SlackEmulator", "SlackState", "User", "Workspace"]
