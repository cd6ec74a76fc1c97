// `node --import` this in the e2e child when AUTOPICKER_LANGFUSE_ROOT is set (npm run
// test:langfuse-oldest): it resolves the packages that run replaces from that scratch install, as
// Jest's moduleNameMapper does for the in-process suites. Everything else resolves as usual.
import { register } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";

const REPLACED =
  /^(@langfuse\/[^/]+|@opentelemetry\/(?:sdk-trace-node|sdk-trace-base|context-async-hooks))(\/.*)?$/;

// The same file is the hooks module: register it once, from the main thread.
if (isMainThread && process.env.AUTOPICKER_LANGFUSE_ROOT) {
  register(import.meta.url, { data: process.env.AUTOPICKER_LANGFUSE_ROOT });
}

let parentURL;

export function initialize(root) {
  parentURL = pathToFileURL(join(root, "package.json")).href;
}

export function resolve(specifier, context, nextResolve) {
  if (parentURL && REPLACED.test(specifier)) return nextResolve(specifier, { ...context, parentURL });
  return nextResolve(specifier, context);
}
