"""The built-in Slack: an emulator of the Web API and a driver that sends what Slack sends.

Tests, benchmarks and the sandbox (`make run` with no Slack settings) all talk to it.
"""
