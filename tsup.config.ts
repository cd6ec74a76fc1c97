import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "testing/index": "src/testing/index.ts",
    "langfuse/index": "src/langfuse/index.ts",
    "redis/index": "src/redis/index.ts",
    "simulate/index": "src/simulate/index.ts",
    "simulate/cli": "src/simulate/cli.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // Peers and optional integrations stay external so users get a single copy of each.
  external: [/^@langchain\//, /^@langfuse\//, /^@opentelemetry\//, "ioredis", "langchain"],
});
