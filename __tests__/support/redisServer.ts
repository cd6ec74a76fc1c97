/**
 * Private `redis-server` processes for tests that need server-wide commands (SCRIPT FLUSH,
 * SHUTDOWN, CLIENT PAUSE, DEBUG SLEEP) or kill Redis on purpose, and a private Redis Cluster. Those commands must never reach
 * the server `REDIS_URL` names: it may be the user's, or shared by other applications. Each server
 * here listens on a free port of 127.0.0.1, keeps nothing on disk and is stopped by the test.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Cluster } from "ioredis";
import { freePort, rawCommand } from "./net";

export { freePort } from "./net";

function findBinary(): string | undefined {
  const configured = process.env.REDIS_SERVER_BIN ?? "redis-server";
  try {
    execFileSync(configured, ["--version"], { stdio: "ignore", timeout: 3000 });
    return configured;
  } catch {
    return undefined;
  }
}

/** The `redis-server` binary (`REDIS_SERVER_BIN`, else from PATH), if there is one. */
export const redisServerBinary = findBinary();

if (!redisServerBinary) {
  if (process.env.CI === "true") {
    throw new Error(
      "CI needs redis-server on PATH (or REDIS_SERVER_BIN) for the private-server Redis tests.",
    );
  }
  console.warn(
    "Skipping private-server Redis tests: no redis-server binary (install redis or set REDIS_SERVER_BIN).",
  );
}

/**
 * `describe`, or `describe.skip` when there is no redis-server binary outside CI. (Undefined
 * outside jest: the benchmarks import this module for {@link PrivateRedis}.)
 */
export const describeRedisServer: jest.Describe = (
  typeof describe === "function" ? (redisServerBinary ? describe : describe.skip) : undefined
) as jest.Describe;

let debugFlag: boolean | undefined;

/** Whether this redis-server knows `--enable-debug-command` (7.0+; older ones allow DEBUG anyway). */
function supportsDebugFlag(): boolean {
  if (debugFlag === undefined) {
    const version = redisServerBinary
      ? execFileSync(redisServerBinary, ["--version"], { encoding: "utf8", timeout: 3000 })
      : "";
    debugFlag = Number(/v=(\d+)/.exec(version)?.[1] ?? "0") >= 7;
  }
  return debugFlag;
}

/** One private redis-server. `stop()` shuts it down; `start()` again on the same port restarts it. */
export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  /** Starts a server on `port` (default: a free one) and waits until it answers PING. */
  static async start(options: { port?: number; args?: readonly string[] } = {}): Promise<PrivateRedis> {
    const server = new PrivateRedis(options.port ?? (await freePort()), options.args ?? []);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the process on the same port. */
  async start(): Promise<void> {
    if (!redisServerBinary) throw new Error("no redis-server binary");
    const child = spawn(
      redisServerBinary,
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        // DEBUG SLEEP pauses the server in the outage tests (Redis 7 refuses DEBUG by default).
        ...(supportsDebugFlag() ? ["--enable-debug-command", "yes"] : []),
        ...this.extraArgs,
      ],
      { stdio: "ignore" },
    );
    this.child = child;
    for (let i = 0; i < 200; i++) {
      if ((await rawCommand(this.port, "PING")).startsWith("+PONG")) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** SHUTDOWN NOSAVE, then waits for the process to exit. Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await rawCommand(this.port, "SHUTDOWN NOSAVE");
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** SIGKILL (for a server that cannot answer, e.g. paused), then waits for the process to exit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }
}

function findCli(): string | undefined {
  const configured = process.env.REDIS_CLI_BIN ?? "redis-cli";
  try {
    execFileSync(configured, ["--version"], { stdio: "ignore", timeout: 3000 });
    return configured;
  } catch {
    return undefined;
  }
}

/** The `redis-cli` binary (`REDIS_CLI_BIN`, else from PATH), needed to create a cluster. */
export const redisCliBinary = redisServerBinary ? findCli() : undefined;

if (redisServerBinary && !redisCliBinary) {
  if (process.env.CI === "true") {
    throw new Error("CI needs redis-cli on PATH (or REDIS_CLI_BIN) for the Redis Cluster tests.");
  }
  console.warn("Skipping Redis Cluster tests: no redis-cli binary (install redis or set REDIS_CLI_BIN).");
}

/** `describe`, or `describe.skip` when redis-server or redis-cli is missing outside CI. */
export const describeRedisCluster: jest.Describe = (
  typeof describe === "function"
    ? redisServerBinary && redisCliBinary
      ? describe
      : describe.skip
    : undefined
) as jest.Describe;

/**
 * A private Redis Cluster: three masters (`--cluster-enabled yes`) on free ports of 127.0.0.1,
 * joined with `redis-cli --cluster create`, their `nodes.conf` in a temporary directory that
 * `stop()` removes.
 */
export class PrivateRedisCluster {
  private constructor(
    readonly nodes: readonly PrivateRedis[],
    private readonly dir: string,
  ) {}

  /** Starts the nodes, creates the cluster and waits until every node reports `cluster_state:ok`. */
  static async start(size = 3): Promise<PrivateRedisCluster> {
    if (!redisCliBinary) throw new Error("no redis-cli binary");
    const dir = mkdtempSync(path.join(tmpdir(), "autopicker-cluster-"));
    const nodes: PrivateRedis[] = [];
    try {
      for (let i = 0; i < size; i++) {
        const port = await freePort();
        nodes.push(
          await PrivateRedis.start({
            port,
            args: [
              "--cluster-enabled",
              "yes",
              "--cluster-config-file",
              path.join(dir, `nodes-${port}.conf`),
              "--cluster-node-timeout",
              "5000",
              "--dir",
              dir,
            ],
          }),
        );
      }
      execFileSync(
        redisCliBinary,
        [
          "--cluster",
          "create",
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          "--cluster-replicas",
          "0",
          "--cluster-yes",
        ],
        { stdio: "ignore", timeout: 30_000 },
      );
      for (let i = 0; i < 250; i++) {
        const states = await Promise.all(nodes.map((n) => rawCommand(n.port, "CLUSTER INFO")));
        if (states.every((s) => s.includes("cluster_state:ok"))) return new PrivateRedisCluster(nodes, dir);
        await new Promise((r) => setTimeout(r, 40));
      }
      throw new Error("the private Redis Cluster never reached cluster_state:ok");
    } catch (err) {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Where an ioredis `Cluster` starts discovering. */
  get startupNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
  }

  private readonly clients: Cluster[] = [];

  /** A connected ioredis `Cluster` client (few retries, errors silenced); `stop()` closes it. */
  async connect(): Promise<Cluster> {
    const client = new Cluster(this.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    client.on("error", () => undefined);
    this.clients.push(client);
    await client.ping();
    return client;
  }

  /** Closes the clients it made, stops the nodes and removes their directory. */
  async stop(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.quit().catch(() => undefined)));
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
