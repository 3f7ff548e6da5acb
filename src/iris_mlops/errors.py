"""Errors that the scripts turn into one clear message and a non-zero exit code."""


class IrisMlopsError(Exception):
    """A failure the user can act on; its message says what is wrong and what is allowed."""


class ConfigError(IrisMlopsError):
    """A configuration value that is out of range, of the wrong type or unknown."""


class BackendError(IrisMlopsError):
    """The ClearML backend cannot be reached or refuses the credentials."""
