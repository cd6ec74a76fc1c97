import type { Cluster, Redis } from "ioredis";
import { AutoPickerError } from "../errors";

/** An ioredis client: a single node (`Redis`) or a `Cluster`. */
export type IoRedisClient = Redis | Cluster;

/**
 * Runs one Lua script atomically. The stores talk to Redis only through this, so another client
 * (node-redis, a test double) fits by implementing it; see {@link ioredisScripts}.
 */
export interface RedisScriptRunner {
  /** Runs `script` (registered under `name`) with `keys` and `args`; resolves with the raw reply. */
  run(name: string, script: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
}

/** Commands already defined on each client (a script is defined once per client, not per store). */
const definedOn = new WeakMap<object, Set<string>>();

type ScriptFn = (numKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

/**
 * A {@link RedisScriptRunner} over ioredis `defineCommand`: the first call on each connection sends
 * EVAL (loading the script), later ones EVALSHA, and a NOSCRIPT reply (server restarted, SCRIPT
 * FLUSH, failover to a replica that never saw it) is answered by resending EVAL, all inside ioredis.
 */
export function ioredisScripts(client: IoRedisClient): RedisScriptRunner {
  let defined = definedOn.get(client);
  if (!defined) {
    defined = new Set<string>();
    definedOn.set(client, defined);
  }
  const names = defined;
  return {
    run(name, script, keys, args) {
      const fnName = `autopicker_${name}`;
      if (!names.has(fnName)) {
        // `numberOfKeys` left out: the key count is passed per call (it varies with the windows).
        client.defineCommand(fnName, { lua: script });
        names.add(fnName);
      }
      const fn = (client as unknown as Record<string, ScriptFn>)[fnName]!;
      return fn.call(client, keys.length, ...keys, ...args);
    },
  };
}

/** True when `client` looks like an ioredis client rather than a {@link RedisScriptRunner}. */
export function isScriptRunner(client: IoRedisClient | RedisScriptRunner): client is RedisScriptRunner {
  return typeof (client as Partial<RedisScriptRunner>).run === "function" && !("defineCommand" in client);
}

/** Thrown when a Redis call does not answer within the store's `timeoutMs`. */
export class RedisTimeoutError extends AutoPickerError {
  readonly code = "redis_timeout" as const;
  override name = "RedisTimeoutError";
}

/**
 * Settles with `work`, or rejects with {@link RedisTimeoutError} after `ms`. The timer is unref'd
 * (a pending timeout never keeps the process alive), and a late rejection of `work` is swallowed.
 * The rejection waits one `setImmediate`: after an event-loop stall (a CPU-heavy request, GC) the
 * timer and Redis's reply are due together, and timers run before I/O; the reply must win.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0 && Number.isFinite(ms))) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      setImmediate(() => {
        work.catch(() => undefined);
        reject(new RedisTimeoutError(`Redis did not answer ${what} within ${ms} ms.`));
      }).unref?.();
    }, ms);
    timer.unref?.();
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * `{hash-tag}`-ed key of one model: every key of a model hashes to one Cluster slot, so a script
 * may touch them all. `%`, `{` and `}` in the id are percent-encoded (a brace would end the tag
 * early), which keeps distinct ids distinct.
 */
export function taggedKey(prefix: string, id: string, suffix: string): string {
  const tag = id.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${prefix}{${tag}}:${suffix}`;
}
