/**
 * Preloaded into the Portkey gateway process (`node --import tsx --import portkeyLoopback.ts`).
 *
 * The gateway's node entry calls `@hono/node-server`'s `serve({ fetch, port })` with no hostname, so
 * it would listen on every interface. This forces every TCP listen in that process onto 127.0.0.1:
 * the benchmark's gateway is reachable from this machine only.
 */
import { Server } from "node:net";

const LOOPBACK = "127.0.0.1";
const listen = Server.prototype.listen;

Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const [first] = args;
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] === "string" || args[1] === undefined || args[1] === null) args[1] = LOOPBACK;
    else args.splice(1, 0, LOOPBACK);
  } else if (first && typeof first === "object" && !("fd" in first) && !("path" in first)) {
    args[0] = { ...(first as object), host: LOOPBACK };
  }
  return (listen as (...a: unknown[]) => Server).apply(this, args);
} as typeof Server.prototype.listen;
