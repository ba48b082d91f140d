"""Lambda function code. Each sub-package is one function's asset: it imports only the standard
library, boto3, Powertools (+pydantic) and the data contract `aml_contract`."""
