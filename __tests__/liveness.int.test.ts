/**
 * Process liveness: a wait that a caller awaits holds the process like pending I/O. A script whose
 * calls wait out a rate limit must run to its end and exit 0 by itself, with top-level await (an
 * unref'd wait makes node exit 13 mid-wait) and with `main().catch()` (an unref'd wait makes it
 * exit 0 with the remaining calls never run).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { ProviderSimulator } from "../src/testing/simulator";

const TSX = join(__dirname, "..", "node_modules", "tsx", "dist", "cli.mjs");
const CHILD = join(__dirname, "liveness.child.ts");

function runChild(mode: "tla" | "main", baseURL: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [TSX, CHILD],
      { env: { ...process.env, MODE: mode, SIM_OPENAI: baseURL }, timeout: 30_000 },
      (_error, stdout) => resolve({ code: child.exitCode, stdout }),
    );
  });
}

describe("a script whose calls wait out a rate limit", () => {
  let sim: ProviderSimulator;
  beforeAll(async () => {
    sim = new ProviderSimulator({ models: { "gpt-4o-mini": { provider: "openai" } } });
    await sim.start();
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  test.each(["tla", "main"] as const)("MODE=%s makes every call and exits 0 by itself", async (mode) => {
    const { code, stdout } = await runChild(mode, sim.openaiBaseURL);
    expect(stdout.trim().split("\n")).toEqual(["call 1 ok", "call 2 ok", "call 3 ok", "done"]);
    expect(code).toBe(0);
    // The calls did wait: the limiter spaced their arrivals by at least the 300 ms window.
    const { arrivals, served } = sim.stats("gpt-4o-mini");
    expect(served).toBe(3);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(300);
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThanOrEqual(300);
  });
});
