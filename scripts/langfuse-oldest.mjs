// The Langfuse suites against the oldest versions the peer ranges allow: @langfuse/* 5.0.0 and the
// OpenTelemetry SDK 2.3.0 (the first with the span processor `onEnding` hook). They are installed
// into node_modules/.cache/langfuse-oldest (never the project's package.json or lockfile), then Jest
// maps them in with moduleNameMapper, and the e2e child process resolves them through a Node
// resolve hook (__tests__/langfuse.resolve-hook.mjs). @opentelemetry/api stays the project's: one
// copy of it is what every install has. `npm run test:langfuse-oldest [-- jest args]`; CI runs it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const LANGFUSE = "5.0.0";
const OTEL_SDK = "2.3.0";
const OLDEST = {
  "@langfuse/client": LANGFUSE,
  "@langfuse/core": LANGFUSE,
  "@langfuse/langchain": LANGFUSE,
  "@langfuse/otel": LANGFUSE,
  "@langfuse/tracing": LANGFUSE,
  "@opentelemetry/context-async-hooks": OTEL_SDK,
  "@opentelemetry/sdk-trace-base": OTEL_SDK,
  "@opentelemetry/sdk-trace-node": OTEL_SDK,
};

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(repo, "node_modules", ".cache", "langfuse-oldest");

const installed = (pkg) => {
  const file = join(root, "node_modules", pkg, "package.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).version : undefined;
};
if (Object.entries(OLDEST).some(([pkg, version]) => installed(pkg) !== version)) {
  console.log(`== install ${Object.entries(OLDEST).map(([p, v]) => `${p}@${v}`).join(" ")} into ${root}`);
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, "package.json"),
    JSON.stringify({ name: "langfuse-oldest", private: true, dependencies: OLDEST }, null, 2),
  );
  // Peers (@langchain/core, @opentelemetry/api, the OTLP exporter) are not installed here: Node and
  // Jest find the project's by walking up from this folder, as they would in a user's node_modules.
  const npm = spawnSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--no-package-lock", "--legacy-peer-deps", "--ignore-scripts", "--loglevel=error"],
    { cwd: root, stdio: "inherit" },
  );
  if (npm.status !== 0) process.exit(npm.status ?? 1);
}

const { default: base } = await import(join(repo, "jest.config.js"));
const scratch = join(root, "node_modules");
const config = {
  ...base,
  rootDir: repo,
  moduleNameMapper: {
    "^(@langfuse/[^/]+)(/.*)?$": `${scratch}/$1$2`,
    "^(@opentelemetry/(?:sdk-trace-node|sdk-trace-base|context-async-hooks))(/.*)?$": `${scratch}/$1$2`,
  },
};
const jest = spawnSync(
  process.execPath,
  [join(repo, "node_modules", "jest", "bin", "jest.js"), "--config", JSON.stringify(config), "__tests__/langfuse\\.", ...process.argv.slice(2)],
  {
    cwd: repo,
    stdio: "inherit",
    env: {
      ...process.env,
      AUTOPICKER_LANGFUSE_ROOT: root,
      AUTOPICKER_EXPECT_LANGFUSE: LANGFUSE,
      AUTOPICKER_EXPECT_OTEL_SDK: OTEL_SDK,
    },
  },
);
process.exit(jest.status ?? 1);
