"""The one error type users see: a plain-words message plus optional technical detail."""


class DataReadError(Exception):
    """A problem the user can act on.

    Args:
        message: one or two sentences in plain words, shown prominently.
        detail: technical detail for an expander; never needed to understand the problem.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
