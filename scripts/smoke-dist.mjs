// Checks the built package loads both ways users will load it.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const esm = await import("../dist/index.js");
const cjs = require("../dist/index.cjs");
const subpaths = {};
for (const sub of ["testing", "langfuse", "redis", "simulate"]) {
  subpaths[`esm:${sub}`] = await import(`../dist/${sub}/index.js`);
  subpaths[`cjs:${sub}`] = require(`../dist/${sub}/index.cjs`);
}
for (const [name, mod] of Object.entries({ esm, cjs, ...subpaths })) {
  if (Object.keys(mod).length === 0) throw new Error(`${name} entry exports nothing`);
}
// The main entry must not pull in optional integrations.
for (const file of ["../dist/index.js", "../dist/index.cjs"]) {
  const text = (await import("node:fs")).readFileSync(new URL(file, import.meta.url), "utf8");
  for (const optional of ["ioredis", "@langfuse/", "@opentelemetry/"]) {
    if (text.includes(`"${optional}`) || text.includes(`'${optional}`)) throw new Error(`${file} imports ${optional}`);
  }
}
for (const name of ["AutoPickerChatModel", "systemClock"]) {
  if (!(name in esm) || !(name in cjs)) throw new Error(`${name} missing from the ESM or CJS build`);
}
// The bin runs from the built file.
const { execFileSync } = await import("node:child_process");
const help = execFileSync(process.execPath, [new URL("../dist/simulate/cli.js", import.meta.url).pathname, "--help"], { encoding: "utf8" });
if (!/simulate/.test(help)) throw new Error("autopicker --help printed no usage");
console.log(`dist ok: ${Object.keys(esm).length} exports (ESM), ${Object.keys(cjs).length} (CJS)`);
