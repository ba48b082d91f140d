// Evaluates authorisation requests with @cloud-copilot/iam-simulate (identity policies, the
// resource's policy, conditions; same-account rules, KMS key policies included). Driven by
// simulator.py: reads {roles: {name: [{name, policy}]}, resourcePolicies: {arn: policy},
// requests: [{role, principal, action, resource, accountId, policyOf, context}]} on stdin and
// writes one {decision, errors} per request, in order, on stdout.
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const answers = []
for (const request of input.requests) {
  const simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.accountId },
      contextVariables: request.context
    },
    identityPolicies: input.roles[request.role],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.policyOf ? input.resourcePolicies[request.policyOf] : undefined
  }
  const response = await runSimulation(simulation, {})
  answers.push(
    response.resultType === 'error'
      ? { decision: 'Error', errors: response.errors }
      : { decision: response.overallResult, errors: null }
  )
}
process.stdout.write(JSON.stringify(answers))
