"""Use cases: each takes a session and keyword-only arguments, owns its transaction, returns
plain dataclasses and raises the domain errors below with a message a person can act on."""
