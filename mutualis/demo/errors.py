"""The one error the demo loaders raise, apart so each loader can raise it without importing the others."""


class DemoFileError(Exception):
    """The demo file is not what the loader expects; the message names file, entry and field."""
