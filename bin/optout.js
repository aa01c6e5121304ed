#!/usr/bin/env node
// CommonJS on purpose (bin/package.json): Node starts a CommonJS entry faster than an ES module,
// and `--version`, the floor of optout's start-up cost, is answered before anything else loads.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(`${require("../package.json").version}\n`);
} else {
  import("../dist/main.js").then((m) => m.main(argv));
}
