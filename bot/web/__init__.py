"""The web side: aiohttp app with the simulator chat (and later the console and APIs)."""
