"""Errors that services raise and views/API translate for people."""


class EditConflict(Exception):
    """Somebody saved the record after the caller read it; the caller's write was refused.

    ``changes`` are the audit rows written since the version the caller read, so the
    message can say who changed what.
    """

    def __init__(self, message: str, *, current_version: int, changes: list) -> None:
        super().__init__(message)
        self.message = message
        self.current_version = current_version
        self.changes = changes
