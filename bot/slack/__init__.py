"""Outgoing Slack: the only code that calls the Web API, and the installation store."""
