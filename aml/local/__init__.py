"""Local stand-ins for the AWS services (see DESIGN.md "Local stand-ins")."""
