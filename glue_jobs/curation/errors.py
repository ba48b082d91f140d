"""The one error the curation job raises for bad input it cannot quarantine row by row."""


class CurationError(Exception):
    """A whole input (a file, the layout, the reconciliation) is wrong: the run stops before
    anything is published, and the message names the file or count at fault."""
