"""The checks of a loaded config, one module per section; Checker runs them all."""

from bot.config.checks.checker import Checker

__all__ = ["Checker"]
