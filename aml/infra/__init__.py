"""Infrastructure commands: synthesize the CDK app offline, deploy it into the local emulator."""
