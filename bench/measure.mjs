/**
 * Timing for the bench: wall time of whole child processes (what a pipeline job or a user waits
 * for), medians, and cases run round-robin so that a load spike from another process hits the
 * baseline and the subject alike. A figure is always a ratio of two medians from the same run.
 */
import { spawnSync } from "node:child_process";

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `node …args` and returns how long it took (ms, from hrtime) with its output. */
export function timeNode(args, { cwd, env }) {
  return timeSpawn(process.execPath, args, { cwd, env });
}

export function timeSpawn(cmd, args, { cwd, env }) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, maxBuffer: 1024 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  return { ms, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * @typedef {object} Case
 * @property {string} name
 * @property {() => {ms: number, status: number | null, stdout: Buffer, stderr: Buffer}} run
 * @property {(r: {status: number | null, stdout: Buffer, stderr: Buffer}) => string | undefined} [check]
 *   returns what is wrong with a run (a failed run is not a timing)
 * @property {() => void} [prepare] runs before each run, untimed (e.g. a fresh clone)
 */

/**
 * Each case once as a warm-up (page cache, git's first fetch), then `runs` rounds of every case in
 * turn. Returns per case: median, min, max and every sample (ms).
 * @param {Case[]} cases
 */
export function measure(cases, { runs, warmup = 1, onRound } = {}) {
  const samples = new Map(cases.map((c) => [c.name, []]));
  for (let round = -warmup; round < runs; round++) {
    for (const c of cases) {
      c.prepare?.();
      const r = c.run();
      const wrong = c.check?.(r);
      if (wrong) {
        throw new Error(`${c.name}: ${wrong}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`);
      }
      if (round >= 0) samples.get(c.name).push(r.ms);
    }
    onRound?.(round);
  }
  const out = {};
  for (const [name, xs] of samples) {
    out[name] = {
      median: median(xs),
      min: Math.min(...xs),
      max: Math.max(...xs),
      samples: xs.map((x) => Math.round(x * 100) / 100),
    };
  }
  return out;
}

function tail(b) {
  const s = (b ?? Buffer.alloc(0)).toString("utf8");
  return s.length > 2000 ? `…${s.slice(-2000)}` : s;
}

/** A check: the exit status is `code` (and stdout, trimmed, is `stdout` when given). */
export function exits(code, stdout) {
  return (r) => {
    if (r.status !== code) return `exit ${r.status}, expected ${code}`;
    if (stdout !== undefined && r.stdout.toString("utf8").trim() !== stdout) {
      return `printed ${JSON.stringify(r.stdout.toString("utf8").trim().slice(0, 200))}, expected ${JSON.stringify(stdout)}`;
    }
    return undefined;
  };
}
