/**
 * The Portkey AI gateway (`@portkey-ai/gateway`, the open-source Hono app) run locally for the
 * burst benchmark: its node entry in a child process, bound to 127.0.0.1 only (see
 * `portkeyLoopback.ts`), with every provider's `custom_host` pointing at the simulator. Nothing
 * leaves this machine.
 *
 * The gateway is not a dependency of this package. It is found, in order, at
 * `$PORTKEY_GATEWAY_DIR` (the package directory, or a directory with
 * `node_modules/@portkey-ai/gateway`), then wherever Node resolves it from the repository.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChatOpenAI } from "@langchain/openai";
import { GEMINI, MAX_TOKENS, OPENAI } from "./clients";
import type { RemoteSim } from "./remoteSim";

const PACKAGE = "@portkey-ai/gateway";
const LOOPBACK_PRELOAD = fileURLToPath(new URL("./portkeyLoopback.ts", import.meta.url));
/** tsx from this repository (the gateway runs with its own directory as cwd). */
const TSX = import.meta.resolve("tsx");

export interface GatewayInstall {
  /** Directory of the `@portkey-ai/gateway` package. */
  dir: string;
  version: string;
  entry: string;
}

/** Where the gateway is installed, or a reason why it cannot be used. */
export function findGateway(): GatewayInstall | string {
  const candidates: string[] = [];
  const env = process.env.PORTKEY_GATEWAY_DIR;
  if (env) candidates.push(env, join(env, "node_modules", PACKAGE));
  try {
    const require = createRequire(import.meta.url);
    candidates.push(dirname(require.resolve(`${PACKAGE}/package.json`)));
  } catch {
    // not installed next to the repository
  }
  for (const dir of candidates) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = createRequire(import.meta.url)(manifest) as {
      name?: string;
      version?: string;
      bin?: unknown;
    };
    if (pkg.name !== PACKAGE) continue;
    const bin = typeof pkg.bin === "string" ? pkg.bin : "build/start-server.js";
    const entry = join(dir, bin);
    if (!existsSync(entry)) return `${PACKAGE} found at ${dir} but its entry ${bin} is missing`;
    return { dir, version: pkg.version ?? "?", entry };
  }
  return `${PACKAGE} is not installed (install it outside the repo and set PORTKEY_GATEWAY_DIR, e.g. \`npm i --prefix /tmp/portkey --ignore-scripts ${PACKAGE}\`)`;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Gateway {
  readonly install: GatewayInstall;
  /** `http://127.0.0.1:PORT/v1`, for `ChatOpenAI({ configuration: { baseURL } })`. */
  readonly baseURL: string;
  /** What the gateway printed on stderr (retry errors and the like), newest last. */
  stderrLines(): string[];
  stop(): Promise<void>;
}

/** Starts the gateway on a free loopback port and resolves once it answers. */
export async function startGateway(install: GatewayInstall): Promise<Gateway> {
  const port = await freeLoopbackPort();
  const child = spawn(
    process.execPath,
    ["--import", TSX, "--import", LOOPBACK_PRELOAD, install.entry, `--port=${port}`, "--headless"],
    {
      cwd: install.dir,
      // No proxy: the gateway honours HTTP(S)_PROXY, and every target here is on loopback.
      env: { ...process.env, HTTP_PROXY: "", HTTPS_PROXY: "", http_proxy: "", https_proxy: "" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const stderr: string[] = [];
  let stdout = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout = (stdout + chunk).slice(-4000);
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr.push(...chunk.split("\n").filter((l) => l.trim() !== ""));
    if (stderr.length > 5000) stderr.splice(0, stderr.length - 5000);
  });
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) =>
      reject(
        new Error(
          `portkey gateway exited (code ${code}): ${stdout.slice(-500)} ${stderr.slice(-5).join(" | ")}`,
        ),
      ),
    ),
  );
  const deadline = Date.now() + 20_000;
  const ready = (async () => {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        await res.text();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`portkey gateway did not answer on ${port} within 20 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    child.kill();
    throw error;
  }
  exited.catch(() => undefined);
  return {
    install,
    baseURL,
    stderrLines: () => [...stderr],
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

export interface PortkeyOptions {
  /** `retry.attempts` on the primary target (Portkey allows up to 5; its docs' example uses 3). */
  attempts: number;
  /** Fall back to the simulator's Gemini model after the primary's retries (strategy "fallback"). */
  fallback: boolean;
  /** `retry.use_retry_after_header` (off by default in Portkey). */
  useRetryAfter?: boolean;
}

/** The x-portkey-config for a burst: OpenAI primary with retries, optionally Gemini behind it. */
export function portkeyConfig(sim: RemoteSim, options: PortkeyOptions): Record<string, unknown> {
  const primary = {
    provider: "openai",
    api_key: "sk-test",
    custom_host: sim.openaiBaseURL,
    retry: {
      attempts: options.attempts,
      // Portkey's default list is [429, 500, 502, 503, 504]; only 429s occur here.
      ...(options.useRetryAfter ? { use_retry_after_header: true } : {}),
    },
  };
  if (!options.fallback) return primary;
  return {
    strategy: { mode: "fallback" },
    targets: [
      primary,
      {
        provider: "google",
        api_key: "test",
        custom_host: sim.geminiBaseUrl,
        override_params: { model: GEMINI },
      },
    ],
  };
}

/**
 * `ChatOpenAI` pointed at the gateway. Its own retries are off (`maxRetries: 0`) so the figures
 * are the gateway's policy, not LangChain's stacked on it.
 */
export function portkeyModel(gateway: Gateway, sim: RemoteSim, options: PortkeyOptions): ChatOpenAI {
  return new ChatOpenAI({
    model: OPENAI,
    apiKey: "sk-test",
    maxTokens: MAX_TOKENS,
    maxRetries: 0,
    configuration: {
      baseURL: gateway.baseURL,
      defaultHeaders: { "x-portkey-config": JSON.stringify(portkeyConfig(sim, options)) },
    },
  });
}
