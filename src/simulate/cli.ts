#!/usr/bin/env node
/** The `autopicker` command: `autopicker simulate --config sim.json --out report.html` (see `USAGE`). */
import { runCli } from "./cliMain";

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = 1;
  },
);
