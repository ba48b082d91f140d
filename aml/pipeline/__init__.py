"""The daily pipeline's state machine, run locally (issue 25): the definition from cdk.out, each
Task resource bound to its local stand-in, aws-local-stepfunctions for the control flow."""
