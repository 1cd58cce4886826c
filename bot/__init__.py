"""OKR check-in bot: a Slack app that runs an OKR practice for a whole company."""

__version__ = "0.1.0"
