"""Storage errors as the rest of the bot sees them; driver exceptions never leak past repositories."""


class StorageError(Exception):
    """Something went wrong storing or reading data."""


class DatabaseUnavailable(StorageError):
    """The database is down, locked or unreachable; trying again later may work."""


class NotFound(StorageError):
    """The row asked for does not exist."""
