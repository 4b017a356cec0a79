"""Transports: how gridbot talks to WeChat (or to its simulator)."""
