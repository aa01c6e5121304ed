/** Colour, loaded only when a human will see it (chalk costs ~20 ms of startup). */
import type { IO } from "./io.js";

export interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

const plain: Paint = { bold: id, dim: id, green: id, yellow: id, red: id, cyan: id };

function id(s: string): string {
  return s;
}

export async function paint(io: IO): Promise<Paint> {
  if (!io.color) return plain;
  const { Chalk } = await import("chalk");
  const c = new Chalk({ level: 1 });
  return {
    bold: (s) => c.bold(s),
    dim: (s) => c.dim(s),
    green: (s) => c.green(s),
    yellow: (s) => c.yellow(s),
    red: (s) => c.red(s),
    cyan: (s) => c.cyan(s),
  };
}
