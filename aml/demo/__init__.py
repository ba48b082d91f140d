"""`make demo`: the whole pipeline end to end on the local stand-ins."""
