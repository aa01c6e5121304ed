/**
 * `--help --json` and `help <topic> --json`: the command tree and the help topics as data, for
 * scripts and editors, with the same words the text help prints (docs/json/help.schema.json).
 */
import type { CommandUnknownOpts as Command, Option } from "@commander-js/extra-typings";
import { exitCodeTable } from "../errors.js";
import { environment } from "./topics.js";

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

function option(o: Option) {
  return {
    flags: o.flags,
    description: o.description,
    ...(o.defaultValue !== undefined ? { default: o.defaultValue } : {}),
    ...(o.argChoices ? { choices: o.argChoices } : {}),
  };
}

export function commandHelp(cmd: Command) {
  return {
    command: commandPath(cmd),
    description: cmd.description(),
    usage: `${commandPath(cmd)} ${cmd.usage()}`.trim(),
    arguments: cmd.registeredArguments.map((a) => ({
      name: a.name(),
      required: a.required,
      ...(a.description ? { description: a.description } : {}),
    })),
    options: cmd.options.filter((o) => !o.hidden).map(option),
    commands: cmd.commands.map((c) => ({ name: c.name(), description: c.description() })),
  };
}

export function topicHelp(topic: string) {
  if (topic === "exit-codes") {
    return { topic, exitCodes: exitCodeTable.map(([code, meaning]) => ({ code, meaning })) };
  }
  return { topic, variables: environment.map(([name, meaning]) => ({ name, meaning })) };
}

export function asJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
