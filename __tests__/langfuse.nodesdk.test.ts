import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { AutoPickerLangfuseHandler } from "../src/langfuse/handler";
import { AutoPickerSpanProcessor } from "../src/langfuse/spanProcessor";
import { decodeSpan } from "./langfuse.helpers";
import { GEMINI, GEMINI_NAME, OPENAI, startWorld } from "./support/picker";

/** Users who run OpenTelemetry themselves add the processor to their own NodeSDK, next to Langfuse's. */
describe("AutoPickerSpanProcessor in an app's own NodeSDK (no setupLangfuseTracing)", () => {
  it("generations get cost, the served model and their fallback events", async () => {
    const exporter = new InMemorySpanExporter();
    const langfuse = new LangfuseSpanProcessor({ exporter, exportMode: "immediate" });
    const sdk = new NodeSDK({
      spanProcessors: [
        langfuse,
        new AutoPickerSpanProcessor(), // order does not matter
      ],
      instrumentations: [],
      autoDetectResources: false,
    });
    sdk.start();
    const w = await startWorld();
    const warnings: string[] = [];
    try {
      w.sim.enqueueFault(OPENAI, { kind: "context_length" });
      const handler = new AutoPickerLangfuseHandler({ logger: { warn: (m) => warnings.push(m) } });
      await w.picker().invoke("hi", { callbacks: [handler] });
      await awaitAllCallbacks();
      await langfuse.forceFlush();
      const obs = exporter.getFinishedSpans().map(decodeSpan);
      const gen = obs.find((o) => o.type === "generation");
      expect(gen).toMatchObject({ model: GEMINI, name: GEMINI_NAME });
      expect(gen!.costDetails!.total).toBeGreaterThan(0);
      const event = obs.find((o) => o.name === "context_length_fallback");
      expect(event!.parentSpanId).toBe(gen!.spanId);
      expect(warnings).toEqual([]);
    } finally {
      await sdk.shutdown();
      await w.stop();
    }
  });
});
