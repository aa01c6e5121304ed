/**
 * Every question optout asks goes through one Prompter (the Factory makes it): questions are
 * talk, so they go to stderr, and Ctrl-C at a question ends the command as an interrupt (exit 130)
 * rather than as an unexpected error. @inquirer/prompts is loaded only when a question is asked.
 */
import { InterruptedError } from "../errors.js";
import type { IO } from "./io.js";

export interface Choice<T extends string> {
  value: T;
  name: string;
}

export interface Prompter {
  input(message: string, def?: string, validate?: (v: string) => true | string): Promise<string>;
  select<T extends string>(message: string, choices: Choice<T>[], def?: T): Promise<T>;
  confirm(message: string, def: boolean): Promise<boolean>;
  checkbox<T extends string>(message: string, choices: Choice<T>[]): Promise<T[]>;
}

/**
 * inquirer answers Ctrl-C (read as a key in raw mode, so no signal reaches the process) with
 * ExitPromptError, and an aborted signal (SIGTERM while asking) with AbortPromptError.
 */
function interrupted(e: unknown): never {
  const name = (e as { name?: unknown } | null)?.name;
  if (name === "ExitPromptError" || name === "AbortPromptError") {
    throw new InterruptedError("interrupted (Ctrl-C) at a prompt; nothing was recorded or changed");
  }
  throw e;
}

export function createPrompter(io: IO, signal?: AbortSignal): Prompter {
  const load = async () => {
    // The spinner would draw over the question.
    io.endProgress();
    return import("@inquirer/prompts");
  };
  const ctx = () => ({
    output: io.streams.stderr as NodeJS.WritableStream,
    ...(signal ? { signal } : {}),
  });
  return {
    input: async (message, def, validate) =>
      (await load())
        .input(
          { message, ...(def !== undefined ? { default: def } : {}), ...(validate ? { validate } : {}) },
          ctx(),
        )
        .catch(interrupted),
    select: async (message, choices, def) =>
      (await load())
        .select({ message, choices, ...(def !== undefined ? { default: def } : {}) }, ctx())
        .catch(interrupted),
    confirm: async (message, def) =>
      (await load()).confirm({ message, default: def }, ctx()).catch(interrupted),
    checkbox: async (message, choices) =>
      (await load()).checkbox({ message, choices }, ctx()).catch(interrupted),
  };
}
