/**
 * Child-process entry that runs a {@link ProviderSimulator} for the benchmarks (see `remoteSim.ts`).
 *
 * Why a separate process: a provider stamps a request when it reaches *its* machine. In-process,
 * the simulator's arrival stamps and the client's timers would share one event loop, so 300
 * LangChain calls' CPU work would delay the server's clock reads and distort both the transit time
 * and the client's sleeps. A second process behaves like a (very near) remote API and can use the
 * second core.
 */
import { ProviderSimulator, type SimModelConfig } from "../../src/testing";
import type { SimCommand, SimEvent } from "./remoteSim";

function send(event: SimEvent): void {
  process.send?.(event);
}

async function main(): Promise<void> {
  const models = JSON.parse(process.argv[2] ?? "{}") as Record<string, SimModelConfig>;
  // Default system clock: arrivals are stamped with Date.now(), the same clock the parent reads.
  const sim = new ProviderSimulator({ models });
  await sim.start();
  process.on("message", (raw) => {
    const cmd = raw as SimCommand;
    switch (cmd.type) {
      case "stats":
        send({ type: "stats", id: cmd.id, stats: sim.stats(cmd.model) });
        return;
      case "reset":
        sim.reset();
        send({ type: "done", id: cmd.id });
        return;
      case "stop":
        void sim.stop().then(() => {
          send({ type: "done", id: cmd.id });
          process.disconnect();
        });
        return;
    }
  });
  // The parent going away (crash, Ctrl-C) must not leave a server behind.
  process.on("disconnect", () => process.exit(0));
  send({ type: "ready", openaiBaseURL: sim.openaiBaseURL, geminiBaseUrl: sim.geminiBaseUrl });
}

void main();
