"""The real-time path on one machine: a Kinesis poller standing in for Lambda's event source
mapping, and `aml stream replay`."""
