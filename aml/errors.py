"""One error type the CLI turns into a single clear message and a non-zero exit."""


class AmlError(Exception):
    """An error the user can fix: what is wrong, and (hint) how to fix it."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = 2):
        super().__init__(message)
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} ({self.hint})" if self.hint else text
