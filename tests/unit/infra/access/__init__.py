"""The access proof: every call our code makes, and every call a service makes for us, checked
against the policies in the synthesized templates."""
