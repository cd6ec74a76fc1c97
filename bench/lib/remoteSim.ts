/**
 * Parent-side handle of a simulator running in a child process (`simChild.ts`): same base URLs
 * and counters as an in-process {@link ProviderSimulator}, over Node's IPC channel.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SimModelConfig, SimStats } from "../../src/testing";
import type { LatencySpec } from "./latency";

/** A simulated model as the benchmarks describe it: plain JSON, answer times as a spec. */
export type BenchModelConfig = Omit<SimModelConfig, "latencyMs"> & {
  latencyMs?: number;
  latency?: LatencySpec;
};

export type SimCommand =
  | { type: "stats"; id: number; model?: string }
  | { type: "reset"; id: number }
  | { type: "stop"; id: number };

export type SimEvent =
  | { type: "ready"; openaiBaseURL: string; geminiBaseUrl: string }
  | { type: "stats"; id: number; stats: SimStats }
  | { type: "done"; id: number };

export interface RemoteSim {
  readonly openaiBaseURL: string;
  readonly geminiBaseUrl: string;
  stats(model?: string): Promise<SimStats>;
  /** Forgets bookings and counters (connections stay open). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL("./simChild.ts", import.meta.url));

/** Starts the simulator in a child process (through tsx) and resolves once it listens. */
export async function startRemoteSim(models: Record<string, BenchModelConfig>): Promise<RemoteSim> {
  const child = fork(CHILD, [JSON.stringify(models)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await new Promise<Extract<SimEvent, { type: "ready" }>>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`simulator process exited early (code ${code})`)));
    child.once("message", (m) => resolve(m as Extract<SimEvent, { type: "ready" }>));
  });
  return new Handle(child, ready.openaiBaseURL, ready.geminiBaseUrl);
}

class Handle implements RemoteSim {
  private nextId = 0;
  private readonly waiting = new Map<number, (event: SimEvent) => void>();

  constructor(
    private readonly child: ChildProcess,
    readonly openaiBaseURL: string,
    readonly geminiBaseUrl: string,
  ) {
    child.removeAllListeners("exit");
    child.on("message", (raw) => {
      const event = raw as SimEvent;
      if (event.type === "ready") return;
      this.waiting.get(event.id)?.(event);
      this.waiting.delete(event.id);
    });
  }

  async stats(model?: string): Promise<SimStats> {
    const event = await this.request({ type: "stats", id: ++this.nextId, model });
    if (event.type !== "stats") throw new Error(`unexpected simulator reply ${event.type}`);
    return event.stats;
  }

  async reset(): Promise<void> {
    await this.request({ type: "reset", id: ++this.nextId });
  }

  async stop(): Promise<void> {
    if (!this.child.connected) return;
    await this.request({ type: "stop", id: ++this.nextId });
  }

  private request(cmd: SimCommand): Promise<SimEvent> {
    return new Promise((resolve) => {
      this.waiting.set(cmd.id, resolve);
      this.child.send(cmd);
    });
  }
}
