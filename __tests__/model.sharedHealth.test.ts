import { MemoryModelHealthStore, type ModelHealthStore } from "../src/model/healthStore";
import type { DecisionTrail } from "../src/model/types";
import { GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

const served = (m: { response_metadata: Record<string, unknown> }) =>
  (m.response_metadata.autopicker as DecisionTrail).model;

describe("shared model health across replicas", () => {
  it("a quota discovered by one replica is skipped by the others without a request", async () => {
    const w = await startWorld();
    try {
      const healthStore = new MemoryModelHealthStore(w.clock);
      const replicaA = w.picker({ healthStore });
      const replicaB = w.picker({ healthStore });
      w.sim.enqueueFault(OPENAI, { kind: "insufficient_quota" });
      expect(served(await replicaA.invoke("a"))).toBe(GEMINI_NAME);
      expect(served(await replicaB.invoke("b"))).toBe(GEMINI_NAME);
      expect(w.sim.stats(OPENAI).requests).toBe(1);
    } finally {
      await w.stop();
    }
  });

  it("an open circuit is shared, and a successful probe closes it for everyone", async () => {
    const w = await startWorld();
    try {
      const healthStore = new MemoryModelHealthStore(w.clock);
      const options = {
        healthStore,
        maxRetries: 0,
        circuitBreaker: { failureThreshold: 1, cooldownSeconds: 30 },
      };
      const replicaA = w.picker(options);
      const replicaB = w.picker(options);
      w.sim.enqueueFault(OPENAI, { kind: "server_error" });
      expect(served(await replicaA.invoke("a"))).toBe(GEMINI_NAME);
      expect(served(await replicaB.invoke("b"))).toBe(GEMINI_NAME);
      expect(w.sim.stats(OPENAI).requests).toBe(1);
      await w.clock.advance(30_000);
      expect(served(await replicaA.invoke("probe"))).toBe(OPENAI_NAME);
      expect((await healthStore.get(OPENAI_NAME)).circuitOpenUntil).toBeUndefined();
    } finally {
      await w.stop();
    }
  });

  it("a failing health store costs one warning and no call", async () => {
    const w = await startWorld();
    try {
      const broken: ModelHealthStore = {
        get: async () => Promise.reject(new Error("ECONNREFUSED")),
        markUnavailable: async () => Promise.reject(new Error("ECONNREFUSED")),
        openCircuit: async () => Promise.reject(new Error("ECONNREFUSED")),
        closeCircuit: async () => Promise.reject(new Error("ECONNREFUSED")),
      };
      const warnings: string[] = [];
      const llm = w.picker({ healthStore: broken, logger: { warn: (m) => warnings.push(m) } });
      w.sim.enqueueFault(OPENAI, { kind: "insufficient_quota" });
      await llm.invoke("a");
      await w.clock.advance(2000);
      await llm.invoke("b");
      expect(warnings.filter((m) => m.includes("shared model health"))).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });
});
