import { execFileSync } from "node:child_process";

/** The CLI tests run the built program (bin/optout.js → dist/), as users do: build it once. */
export default function setup(): void {
  if (process.env.OPTOUT_TEST_NO_BUILD === "1") return;
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
