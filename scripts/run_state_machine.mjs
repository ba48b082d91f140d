// Runs one Step Functions state machine execution locally with aws-local-stepfunctions, every
// Task state handled by the Python parent (aml/pipeline/run.py), which binds each Task resource to
// its local stand-in.
//
//   node scripts/run_state_machine.mjs DEFINITION.json [--input JSON] [--context JSON]
//        [--retry-interval-ms N] [--validate-only]
//
// The definition is first checked with asl-validator (the validator the issue names).
//
// Protocol: JSON lines. This script writes requests to stdout,
//   {"id": N, "state": "<Task state name>", "resource": "<Resource ARN>", "input": <effective input>}
// (the input after InputPath and Parameters, as the service integration receives it), and reads
// the answers on stdin:
//   {"id": N, "output": <result>}                    the task's result (before ResultSelector)
//   {"id": N, "error": "<name>", "cause": "<text>"}  the task failed with error <name>
// An answer's error becomes a thrown Error whose `name` is <name>: aws-local-stepfunctions matches
// Retry and Catch `ErrorEquals` against `error.name` and gives a Catch `{"Error": name, "Cause":
// message}` (StateExecutor.shouldRetry/catchError in its build). The final line is
//   {"done": true, "status": "SUCCEEDED", "output": ..., "events": [...]}
//   {"done": true, "status": "FAILED"|"TIMED_OUT"|"ABORTED", "error": ..., "cause": ..., "events": [...]}
//   {"done": true, "status": "INVALID", "error": "InvalidDefinition", "cause": "<validator errors>"}
// where events is the library's execution event log (StateEntered, StateRetried, ...).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import aslValidator from "asl-validator";

// aws-local-stepfunctions 3 requires Node 22 for one call, Promise.withResolvers (its Task timeout);
// the project supports Node 20+, so supply it when missing (same semantics as the built-in).
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

// Step Functions' Task default timeout is 99999999 s; the library's is 60 s, and a Node timer
// holds at most 2^31-1 ms. Tasks without a timeout get the longest timer Node can hold.
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

/** Every state of a definition, Map (ItemProcessor/Iterator) and Parallel branches included. */
function* allStates(definition) {
  for (const [name, state] of Object.entries(definition.States ?? {})) {
    yield [name, state];
    if (state.Type === "Map") {
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) yield* allStates(inner);
    }
    if (state.Type === "Parallel") {
      for (const branch of state.Branches ?? []) yield* allStates(branch);
    }
  }
}

function withTaskTimeouts(definition) {
  const copy = structuredClone(definition);
  for (const [, state] of allStates(copy)) {
    if (state.Type === "Task" && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = MAX_TIMER_SECONDS;
    }
  }
  return copy;
}

function validate(definition) {
  const { isValid, errorsText } = aslValidator(definition);
  return isValid ? null : errorsText("\n");
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      input: { type: "string", default: "{}" },
      context: { type: "string", default: "{}" },
      "retry-interval-ms": { type: "string" },
      "validate-only": { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1) {
    process.stderr.write("usage: run_state_machine.mjs DEFINITION.json [--input JSON] [--context JSON] "
      + "[--retry-interval-ms N] [--validate-only]\n");
    return 2;
  }
  const definition = JSON.parse(readFileSync(positionals[0], "utf8"));
  const invalid = validate(definition);
  if (invalid) {
    send({ done: true, status: "INVALID", error: "InvalidDefinition", cause: invalid });
    return 1;
  }
  if (values["validate-only"]) {
    send({ done: true, status: "VALID" });
    return 0;
  }
  // Imported only now: the library is ESM-only and its import is the slow part.
  const { StateMachine } = await import("aws-local-stepfunctions");

  const pending = new Map();
  let nextId = 0;
  const answers = createInterface({ input: process.stdin });
  answers.on("line", (line) => {
    if (!line.trim()) return;
    const answer = JSON.parse(line);
    const waiting = pending.get(answer.id);
    if (!waiting) return;
    pending.delete(answer.id);
    if ("error" in answer) {
      const error = new Error(answer.cause ?? "");
      error.name = answer.error;
      waiting.reject(error);
    } else {
      waiting.resolve(answer.output ?? null);
    }
  });
  answers.on("close", () => {
    for (const [, waiting] of pending) {
      const error = new Error("the task runner closed its input");
      error.name = "States.Runtime";
      waiting.reject(error);
    }
    pending.clear();
  });

  const handlers = {};
  const retryOverrides = {};
  const retryMs = values["retry-interval-ms"];
  for (const [name, state] of allStates(definition)) {
    if (state.Type === "Task") {
      handlers[name] = (input) => new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        send({ id, state: name, resource: state.Resource, input });
      });
    }
    if (retryMs !== undefined && state.Retry) retryOverrides[name] = Number(retryMs);
  }

  const machine = new StateMachine(withTaskTimeouts(definition), {
    validationOptions: { noValidate: true }, // checked above with asl-validator
  });
  const execution = machine.run(JSON.parse(values.input), {
    context: JSON.parse(values.context),
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retryOverrides },
  });
  const events = [];
  const drained = (async () => {
    for await (const event of execution.eventLogs) events.push(event);
  })();
  let done;
  try {
    const output = await execution.result;
    done = { done: true, status: "SUCCEEDED", output };
  } catch (err) {
    const status = { ExecutionTimeoutError: "TIMED_OUT", ExecutionAbortedError: "ABORTED" }[err.name] ?? "FAILED";
    const inner = err.name === "ExecutionError" && err.cause ? err.cause : err;
    // A Fail state without Error or Cause: the library fills in its own defaults (FailStateError);
    // Step Functions reports none.
    const error = inner.name === "FailStateError" ? null : inner.name;
    const cause = inner.message === "Execution failed because of a Fail state" ? null : inner.message;
    done = { done: true, status, error, cause };
  }
  await drained;
  send({ ...done, events });
  answers.close();
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  send({ done: true, status: "ERROR", error: err.name ?? "Error", cause: String(err.stack ?? err) });
  process.exitCode = 2;
});
