"""Storage errors as the rest of the bot sees them; driver exceptions never leak past repositories."""


class StorageError(Exception):
    """Something went wrong storing or reading data."""


class DatabaseUnavailable(StorageError):
    """The database is down, locked or unreachable; trying again later may work."""


class NotFound(StorageError):
    """The row asked for does not exist."""


class Conflict(StorageError):
    """The row is there already (another process, or an earlier attempt, wrote it first)."""


def is_database_error(exc: BaseException) -> bool:
    """Did the database driver raise this (rather than the code around it)? Storage's errors count too."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, (DBAPIError, StorageError))


def is_conflict(exc: BaseException) -> bool:
    """A unique constraint refused the row: someone else recorded the same thing first."""
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, (IntegrityError, Conflict))
