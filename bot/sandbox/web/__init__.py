"""The sandbox page: a small Slack in the browser over the emulator's own state."""
