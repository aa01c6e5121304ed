/**
 * Builds the audit branch's next commit from its tip: the tip's tree with two files added under
 * records/YYYY/MM/DD/ and state/active.json rewritten. Only the trees on that path are read and
 * written, so an append costs the same with 10 or 1,000,000 records.
 */
import {
  type ObjectWriter,
  parseTree,
  readObjects,
  serializeTree as serialize,
  type TreeEntry,
} from "../git/objects.js";

export interface NewFiles {
  /** records/YYYY/MM/DD */
  dir: string[];
  recordName: string;
  record: Buffer;
  sigName: string;
  sig: Buffer;
  index: Buffer;
}

/** Returns the id of the new root tree. `tip` undefined: the genesis commit. */
export async function buildTree(
  cwd: string,
  writer: ObjectWriter,
  tip: string | undefined,
  files: NewFiles,
): Promise<string> {
  const dirs = ["records", ...files.dir];
  // Tree names to read: root, records, records/YYYY, …, and state.
  const names: string[] = [];
  if (tip) {
    names.push(`${tip}^{tree}`);
    for (let i = 1; i <= dirs.length; i++) names.push(`${tip}:${dirs.slice(0, i).join("/")}`);
    names.push(`${tip}:state`);
  }
  const objs = tip ? await readObjects(cwd, names) : new Map();
  const entriesOf = (name: string): TreeEntry[] => {
    const o = objs.get(name);
    return o && o.type === "tree" ? parseTree(o.data, writer.hashBytes) : [];
  };
  const put = (entries: TreeEntry[], e: TreeEntry) => [...entries.filter((x) => x.name !== e.name), e];

  const recordOid = await writer.write("blob", files.record);
  const sigOid = await writer.write("blob", files.sig);
  const indexOid = await writer.write("blob", files.index);

  // Innermost directory first: the day's directory gets the two files.
  let leaf = tip ? entriesOf(`${tip}:${dirs.join("/")}`) : [];
  leaf = put(leaf, { mode: "100644", name: files.recordName, oid: recordOid });
  leaf = put(leaf, { mode: "100644", name: files.sigName, oid: sigOid });
  let childOid = await writer.write("tree", serialize(leaf));
  for (let depth = dirs.length - 1; depth >= 1; depth--) {
    const parentPath = dirs.slice(0, depth).join("/");
    const parent = tip ? entriesOf(`${tip}:${parentPath}`) : [];
    childOid = await writer.write(
      "tree",
      serialize(put(parent, { mode: "40000", name: dirs[depth]!, oid: childOid })),
    );
  }
  let state = tip ? entriesOf(`${tip}:state`) : [];
  state = put(state, { mode: "100644", name: "active.json", oid: indexOid });
  const stateOid = await writer.write("tree", serialize(state));

  let root = tip ? entriesOf(`${tip}^{tree}`) : [];
  root = put(root, { mode: "40000", name: "records", oid: childOid });
  root = put(root, { mode: "40000", name: "state", oid: stateOid });
  return writer.write("tree", serialize(root));
}

export interface CommitFields {
  tree: string;
  parent?: string;
  authorName: string;
  authorEmail: string;
  time: Date;
  message: string;
}

export function commitBody(c: CommitFields): Buffer {
  const ts = `${Math.floor(c.time.getTime() / 1000)} +0000`;
  const who = `${sanitize(c.authorName)} <${sanitize(c.authorEmail)}> ${ts}`;
  const lines = [`tree ${c.tree}`];
  if (c.parent) lines.push(`parent ${c.parent}`);
  lines.push(`author ${who}`, `committer ${who}`, "", c.message);
  return Buffer.from(`${lines.join("\n")}${c.message.endsWith("\n") ? "" : "\n"}`);
}

/**
 * The commit with an SSH signature of `body` in a signature header, as `git commit -S` with
 * gpg.format=ssh writes it (after the committer line, continuation lines indented by one space),
 * so `git verify-commit` checks it. The signature covers the commit without that header, which is
 * `gpgsig` in a SHA-1 repository and `gpgsig-sha256` in a SHA-256 one (git reads only that one).
 */
export function withSignature(
  body: Buffer,
  armored: string,
  objectFormat: "sha1" | "sha256" = "sha1",
): Buffer {
  const text = body.toString("utf8");
  const end = text.indexOf("\n\n");
  if (end < 0) throw new Error("commit has no message separator");
  const name = objectFormat === "sha256" ? "gpgsig-sha256" : "gpgsig";
  const header = `${name} ${armored.trimEnd().split("\n").join("\n ")}`;
  return Buffer.from(`${text.slice(0, end)}\n${header}${text.slice(end)}`, "utf8");
}

// Git's ident format cannot carry these characters; a login never needs them.
function sanitize(s: string): string {
  return s.replace(/[<>\n\0]/g, "").trim() || "unknown";
}
