"""The one thing pyproject.toml cannot say: the parser's optional C extension (bot/domain/parsing/_grams.c).

`optional=True`: where no C compiler (or no Python headers) is at hand the build warns and the install goes on;
bot/domain/parsing/model.py then answers the same in numpy.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("bot.domain.parsing._grams", ["bot/domain/parsing/_grams.c"], optional=True)])
