/**
 * `optout completion bash|zsh|fish`: a completion script generated from the command tree itself,
 * so it can never offer a command or flag that does not exist.
 */
import type { CommandUnknownOpts as Command } from "@commander-js/extra-typings";
import { UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";

interface Node {
  path: string[];
  description: string;
  options: string[];
  children: string[];
}

function walk(cmd: Command, path: string[], out: Node[], globals: string[]): void {
  const options = cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x));
  const children = cmd.commands.map((c) => c.name());
  out.push({ path, description: cmd.description(), options: [...options, ...globals], children });
  for (const c of cmd.commands) walk(c, [...path, c.name()], out, globals);
}

/** Every command and its flags, read from the command tree itself (`program`, the root). */
export function treeOf(program: Command): Node[] {
  const globals = program.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x));
  const nodes: Node[] = [];
  walk(program, [], nodes, []);
  // Global options are accepted after any subcommand too.
  return nodes.map((n) => (n.path.length ? { ...n, options: [...new Set([...n.options, ...globals])] } : n));
}

function bash(nodes: Node[]): string {
  const cases = nodes
    .map((n) => `    "${n.path.join(" ")}") words="${[...n.children, ...n.options].join(" ")}" ;;`)
    .join("\n");
  return `# optout completion for bash: source <(optout completion bash)
_optout() {
  local cur path i w
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${path:+$path }$w" in
${nodes
  .filter((n) => n.path.length)
  .map((n) => `      "${n.path.join(" ")}") path="${n.path.join(" ")}" ;;`)
  .join("\n")}
    esac
  done
  local words=""
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _optout optout
`;
}

function zsh(nodes: Node[]): string {
  return `#compdef optout
# optout completion for zsh: source <(optout completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(nodes).replace(/^# optout completion for bash.*\n/, "")}`;
}

function fish(nodes: Node[]): string {
  const lines = ["# optout completion for fish: optout completion fish | source", "complete -c optout -f"];
  for (const n of nodes) {
    const cond =
      n.path.length === 0 ? "__fish_use_subcommand" : `__fish_seen_subcommand_from ${n.path.at(-1)}`;
    for (const child of n.children) {
      const d = nodes.find((x) => x.path.join(" ") === [...n.path, child].join(" "))?.description ?? "";
      lines.push(`complete -c optout -n '${cond}' -a ${child} -d '${d.replace(/'/g, "\\'")}'`);
    }
    for (const o of n.options.filter((x) => x.startsWith("--"))) {
      lines.push(`complete -c optout -n '${n.path.length ? cond : "true"}' -l ${o.slice(2)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export async function runCompletion(f: Factory, shell: string | undefined, program: Command): Promise<void> {
  const render = { bash, zsh, fish }[shell as "bash" | "zsh" | "fish"];
  if (!render)
    throw new UsageError(`completion for "${shell ?? ""}" is not available`, {
      hint: "optout completion bash|zsh|fish",
    });
  const script = render(treeOf(program));
  if (f.io.json) f.io.printJson({ shell, script });
  else f.io.out(script);
}
