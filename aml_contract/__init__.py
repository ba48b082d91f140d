"""The platform's data contract: source and curated schemas, PII classes, rule parameters,
pseudonymisation and resource names.

This package imports nothing else of ours (only the standard library) so it can ship inside the
Lambda asset and the Glue job's extra Python files unchanged.
"""
