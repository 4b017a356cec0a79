"""Handlers: one module per kind of message. They return replies; they never send."""
