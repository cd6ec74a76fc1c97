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
import { latencyFunction } from "./latency";
import type { BenchModelConfig, SimCommand, SimEvent } from "./remoteSim";

function send(event: SimEvent): void {
  process.send?.(event);
}

async function main(): Promise<void> {
  const specs = JSON.parse(process.argv[2] ?? "{}") as Record<string, BenchModelConfig>;
  // Latency specs are JSON; the simulator wants a function.
  const models: Record<string, SimModelConfig> = {};
  for (const [name, { latency, ...config }] of Object.entries(specs)) {
    models[name] = latency ? { ...config, latencyMs: latencyFunction(latency) } : config;
  }
  // Default system clock: arrivals are stamped with Date.now(), the same clock the parent reads.
  const sim = new ProviderSimulator({ models });
  await sim.start();
  // A provider is warm: the simulator's first request builds its tokenizer (~1 s of blocked event
  // loop, every request behind it stamped late). Warm it here, so the client process stays cold.
  const openaiModel = Object.entries(specs).find(([, c]) => c.provider === "openai")?.[0];
  if (openaiModel) {
    await fetch(`${sim.openaiBaseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-warm" },
      body: JSON.stringify({ model: openaiModel, messages: [{ role: "user", content: "warm-up" }] }),
    }).then((r) => r.text());
    sim.reset();
  }
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
