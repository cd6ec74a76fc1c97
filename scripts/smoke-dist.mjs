// Checks the built package loads both ways users will load it, and that the main entry pulls in
// none of the optional integrations (ioredis, Langfuse, OpenTelemetry), through any shared chunk.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const require = createRequire(import.meta.url);
const esm = await import(join(dist, "index.js"));
const cjs = require(join(dist, "index.cjs"));
const subpaths = {};
for (const sub of ["testing", "agents", "langfuse", "redis", "simulate"]) {
  subpaths[`esm:${sub}`] = await import(join(dist, sub, "index.js"));
  subpaths[`cjs:${sub}`] = require(join(dist, sub, "index.cjs"));
}
for (const [name, mod] of Object.entries({ esm, cjs, ...subpaths })) {
  if (Object.keys(mod).length === 0) throw new Error(`${name} entry exports nothing`);
}

/** Every file the entry loads, following relative imports and requires. */
function graph(entry, seen = new Set()) {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(entry, "utf8");
  for (const m of text.matchAll(/(?:from\s+|require\(|import\()\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    graph(join(dirname(entry), m[1]), seen);
  }
  return seen;
}
for (const entry of ["index.js", "index.cjs"]) {
  for (const file of graph(join(dist, entry))) {
    const text = readFileSync(file, "utf8");
    // Module specifiers, quoted: a package name ends at the quote, a scope at its slash.
    for (const optional of ['ioredis"', "@langfuse/", "@opentelemetry/", 'langchain"']) {
      if (text.includes(`"${optional}`) || text.includes(`'${optional.replace('"', "'")}`)) {
        throw new Error(`dist/${entry} loads ${file}, which imports ${optional}`);
      }
    }
  }
}
for (const name of ["AutoPickerChatModel", "systemClock"]) {
  if (!(name in esm) || !(name in cjs)) throw new Error(`${name} missing from the ESM or CJS build`);
}
// One class per concept across entries (CJS included): an error thrown by /redis is an AutoPickerError of the root.
if (cjs.AutoPickerError !== require(join(dist, "redis", "index.cjs")).AutoPickerError && "AutoPickerError" in subpaths["cjs:redis"]) {
  throw new Error("dist/redis/index.cjs has its own copy of AutoPickerError");
}
// The bin runs from the built file.
const help = execFileSync(process.execPath, [join(dist, "simulate", "cli.js"), "--help"], { encoding: "utf8" });
if (!/simulate/.test(help)) throw new Error("autopicker --help printed no usage");
console.log(`dist ok: ${Object.keys(esm).length} exports (ESM), ${Object.keys(cjs).length} (CJS)`);
