import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "testing/index": "src/testing/index.ts",
    "agents/index": "src/agents/index.ts",
    "langfuse/index": "src/langfuse/index.ts",
    "redis/index": "src/redis/index.ts",
    "simulate/index": "src/simulate/index.ts",
    "simulate/cli": "src/simulate/cli.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  // No sourcemaps: they would point at src/, which is not published, and the unminified dist
  // already reads as the source does.
  sourcemap: false,
  // Shared chunks in CJS too, so every entry sees the same classes (one `AutoPickerError`,
  // one `RateLimiter`): without it each CJS entry bundles its own copy and `instanceof` fails.
  splitting: true,
  clean: true,
  target: "node20",
  // Peers and optional integrations stay external so users get a single copy of each.
  external: [
    /^@langchain\//,
    /^@langfuse\//,
    /^@opentelemetry\//,
    /^@google\//,
    "ioredis",
    "langchain",
    "zod",
  ],
});
