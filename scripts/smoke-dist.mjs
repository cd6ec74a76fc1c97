// Checks the built package loads both ways users will load it.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const esm = await import("../dist/index.js");
const cjs = require("../dist/index.cjs");
const esmTesting = await import("../dist/testing/index.js");
const cjsTesting = require("../dist/testing/index.cjs");
for (const [name, mod] of Object.entries({ esm, cjs, esmTesting, cjsTesting })) {
  if (Object.keys(mod).length === 0) throw new Error(`${name} entry exports nothing`);
}
for (const name of ["AutoPickerChatModel", "systemClock"]) {
  if (!(name in esm) || !(name in cjs)) throw new Error(`${name} missing from the ESM or CJS build`);
}
console.log(`dist ok: ${Object.keys(esm).length} exports (ESM), ${Object.keys(cjs).length} (CJS)`);
