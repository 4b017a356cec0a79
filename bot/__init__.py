"""gridbot (微格助手): a WeChat bot for community micro-grids."""

__version__ = "0.1.0"
