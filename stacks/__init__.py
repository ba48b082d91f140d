"""The CDK stacks of the AML platform, one per concern (see app.py for the wiring)."""
