#!/usr/bin/env node
/**
 * The bench's remote, in a process of its own (the bench times with spawnSync, which would stall
 * a server in its own process): test/helpers/smart-http.ts serving git repositories over smart
 * HTTP, as GitHub and GitLab serve them, plus files under /files/ (a tarball for npm to fetch).
 * Every git request is appended to a log file as one JSON line: the bench counts round trips.
 *
 *   node bench/git-server.mjs '{"repos": {"acme/shop.git": "/path/remote.git"}, "files": "/dir", "log": "/file"}'
 *
 * Prints its base URL on the first line of stdout; runs until killed.
 */
import {
  appendFileSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import os from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { transformSync } from "esbuild";
import { repoRoot } from "./world.mjs";

const o = JSON.parse(process.argv[2] ?? "{}");
// The helper is TypeScript; esbuild strips its types (npm run bench needs no TypeScript loader).
const ts = join(repoRoot, "test", "helpers", "smart-http.ts");
const js = join(mkdtempSync(join(os.tmpdir(), "optout-git-server-")), "smart-http.mjs");
writeFileSync(js, transformSync(readFileSync(ts, "utf8"), { loader: "ts", format: "esm" }).code);
const { serveGit } = await import(pathToFileURL(js).href);

const git = await serveGit({
  repos: o.repos ?? {},
  onRequest: (r) => appendFileSync(o.log, `${JSON.stringify(r)}\n`),
});
const files = createServer((req, res) => {
  const file = join(o.files ?? "", basename(decodeURIComponent(req.url ?? "")));
  if (!o.files || !existsSync(file)) return res.writeHead(404).end();
  res.writeHead(200, { "Content-Type": "application/octet-stream" });
  createReadStream(file).pipe(res);
});
await new Promise((resolve) => files.listen(0, "127.0.0.1", resolve));
process.stdout.write(`${git.url} http://127.0.0.1:${files.address().port}\n`);
