"""User-facing errors.

Anything a user can cause (a bad path, a malformed file, an impossible option) raises
EmbedkitError with one sentence that names the file, line or option. The CLI prints it on one
line of stderr and exits with status 2; it never shows a traceback for these.
"""


class EmbedkitError(Exception):
    """A problem with the user's input or options, explained in one line."""
