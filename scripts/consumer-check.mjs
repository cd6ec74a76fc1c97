// The package as a user gets it: `npm pack`, then install the tarball with exactly the README's
// install line into a scratch project, typecheck the README's quick start there under `strict`
// (ESM with moduleResolution "nodenext", CommonJS, and the subpath types under "node10"), and run
// it against the package's own provider simulator. Fails if the install line, the quick start, the
// tarball's contents or the package's exports break. `npm run check:consumer`; CI runs it.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const keep = process.argv.includes("--keep");
const root = mkdtempSync(join(tmpdir(), "autopicker-consumer-"));
const step = (s) => console.log(`== consumer check: ${s}`);
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });

try {
  // 1. The tarball, built by `prepare` as `npm pack` runs it.
  step("npm pack");
  // `prepare` prints the build's log to stdout before npm's JSON.
  const packOut = run("npm", ["pack", "--json", "--pack-destination", root], repo);
  const [packed] = JSON.parse(packOut.slice(packOut.lastIndexOf("\n[\n") + 1));
  const tarball = join(root, packed.filename);
  const files = new Set(packed.files.map((f) => f.path));
  const expected = ["dist/index.js", "dist/index.cjs", "dist/index.d.ts", "dist/index.d.cts", "dist/simulate/cli.js"];
  for (const sub of ["testing", "agents", "langfuse", "redis", "simulate"]) {
    for (const ext of ["js", "cjs", "d.ts", "d.cts"]) expected.push(`dist/${sub}/index.${ext}`);
  }
  const missing = expected.filter((f) => !files.has(f));
  if (missing.length > 0) throw new Error(`the tarball lacks ${missing.join(", ")}`);
  const stray = [...files].filter((f) => f.endsWith(".map") || f.startsWith("src/") || f.startsWith("__tests__/"));
  if (stray.length > 0) throw new Error(`the tarball ships files users don't need: ${stray.slice(0, 5).join(", ")}`);
  console.log(`   ${packed.filename}: ${files.size} files, ${(packed.size / 1024).toFixed(0)} kB`);

  // 2. The README's install line, with the tarball in place of the registry name.
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const quickStart = readme.slice(readme.indexOf("## Quick start"));
  const installLine = /```bash\n(npm install langchain-autopicker[^\n]*)\n/.exec(quickStart)?.[1];
  if (!installLine) throw new Error("README's Quick start has no `npm install langchain-autopicker ...` line");
  const code = /```ts\n([\s\S]*?)```/.exec(quickStart)?.[1];
  if (!code) throw new Error("README's Quick start has no ts block");
  const args = installLine
    .split(/\s+/)
    .slice(2)
    .map((a) => (a === "langchain-autopicker" ? tarball : a));
  // One install serves both projects below: each is a folder with its own package.json "type",
  // and Node and TypeScript resolve packages from the shared node_modules above them.
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "consumer", private: true }));
  step(`install: ${installLine}`);
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...args], root);
  run("npm", ["install", "-D", "--no-audit", "--no-fund", "--loglevel=error", "typescript@~5.9", "@types/node@20"], root);

  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const strict = { strict: true, target: "ES2022", skipLibCheck: false, types: ["node"], outDir: "out" };
  const projects = {
    esm: { type: "module", compilerOptions: { ...strict, module: "nodenext", moduleResolution: "nodenext" }, source: code },
    cjs: {
      type: "commonjs",
      compilerOptions: { ...strict, module: "nodenext", moduleResolution: "nodenext" },
      // CommonJS has no top-level await: the same code inside an async main.
      source: wrapInMain(code),
    },
  };

  // 3. Typecheck and build each project, then run it against the simulator of the installed package.
  const require = createRequire(join(root, "package.json"));
  const { ProviderSimulator } = await import(require.resolve("langchain-autopicker/testing"));
  for (const [name, p] of Object.entries(projects)) {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: p.type }));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: p.compilerOptions, files: ["quickstart.ts"] }));
    writeFileSync(join(dir, "quickstart.ts"), p.source);
    step(`${name}: tsc --strict (module ${p.compilerOptions.module})`);
    const tscOut = spawnSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8" });
    if (tscOut.status !== 0) throw new Error(`the quick start does not compile as ${name}:\n${tscOut.stdout}${tscOut.stderr}`);

    step(`${name}: run against the simulator`);
    const sim = new ProviderSimulator({
      models: { "gpt-4o-mini": { provider: "openai" }, "gemini-2.5-flash-lite": { provider: "gemini" } },
    });
    await sim.start();
    try {
      // Asynchronously: the simulator answers from this process's event loop.
      const out = await runNode(join(dir, "out", "quickstart.js"), {
        cwd: dir,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          OPENAI_BASE_URL: sim.openaiBaseURL,
          OPENAI_API_KEY: "sk-consumer-check",
          GOOGLE_API_KEY: "consumer-check",
        },
      });
      if (out.status !== 0) throw new Error(`the quick start failed as ${name} (exit ${out.status}):\n${out.stdout}${out.stderr}`);
      const served = sim.stats("gpt-4o-mini").served;
      if (served < 2) throw new Error(`the ${name} quick start made ${served} model calls; the agent needs 2 (tool call, answer)`);
      if (!out.stdout.includes("openai/gpt-4o-mini")) throw new Error(`the ${name} quick start printed no decision trail:\n${out.stdout}`);
      console.log(`   ok: ${served} calls served by the simulator`);
    } finally {
      await sim.stop();
    }
  }

  // 4. Subpath types under the older "node10" resolution (typesVersions).
  step("node10: subpath types resolve");
  const node10 = join(root, "node10");
  mkdirSync(node10);
  writeFileSync(
    join(node10, "subpaths.ts"),
    [
      'import { AutoPickerChatModel } from "langchain-autopicker";',
      'import { ProviderSimulator } from "langchain-autopicker/testing";',
      'import { RedisRateLimitStore } from "langchain-autopicker/redis";',
      'import { AutoPickerLangfuseHandler } from "langchain-autopicker/langfuse";',
      'import { simulate } from "langchain-autopicker/simulate";',
      'import { runBudgetMiddleware } from "langchain-autopicker/agents";',
      "export const used = [AutoPickerChatModel, ProviderSimulator, RedisRateLimitStore, AutoPickerLangfuseHandler, simulate, runBudgetMiddleware];",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(node10, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: "commonjs", moduleResolution: "node10", skipLibCheck: true, types: ["node"] },
      files: ["subpaths.ts"],
    }),
  );
  const n10 = spawnSync(process.execPath, [tsc, "-p", node10], { encoding: "utf8" });
  if (n10.status !== 0) throw new Error(`subpath types do not resolve under node10:\n${n10.stdout}${n10.stderr}`);
  console.log("== consumer check: ok");
} finally {
  if (keep) console.log(`scratch projects kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}

/** Runs a script with node; resolves with its exit status and output. */
function runNode(script, options) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** The quick start for CommonJS: imports stay on top, the rest runs inside `main()`. */
function wrapInMain(source) {
  const lines = source.split("\n");
  let i = 0;
  // Import statements, including multi-line ones, end at the line with `from "..."`.
  for (let inImport = false; i < lines.length; i++) {
    const line = lines[i];
    if (!inImport && !line.startsWith("import ")) break;
    inImport = !/from\s+["'][^"']+["'];?\s*$/.test(line);
  }
  const imports = lines.slice(0, i).join("\n");
  const body = lines.slice(i).join("\n");
  return `${imports}\n\nasync function main(): Promise<void> {\n${body}\n}\n\nmain().catch((error: unknown) => {\n  console.error(error);\n  process.exit(1);\n});\n`;
}
