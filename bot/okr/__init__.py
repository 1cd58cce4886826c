"""Pure OKR rules: no I/O, no Slack, no database. Everything here is a function of its inputs."""
