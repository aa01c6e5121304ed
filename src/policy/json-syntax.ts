/**
 * Where a JSON text stops being JSON, and why. V8's JSON.parse messages differ between Node
 * versions, sometimes carry no position ("Unexpected token ']', "[1,]" is not valid JSON") and
 * quote the surrounding text (which may be a secret), so the position and the reason are
 * computed here by a small validating scanner, run only after JSON.parse has failed.
 */
export interface JsonSyntaxError {
  /** UTF-16 offset into the text. */
  offset: number;
  reason: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

/** One character, safe to print: never more of the text than that. */
function char(c: string | undefined): string {
  if (c === undefined) return "end of file";
  const code = c.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return `U+${code.toString(16).padStart(4, "0").toUpperCase()}`;
  return c === '"' ? `'"'` : `"${c}"`;
}

export function locateJsonError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const stop = (reason: string, at = i): never => {
    throw new Stop(at, reason);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const unexpected = (): never =>
    stop(i >= text.length ? "unexpected end of file" : `unexpected ${char(text[i])}`);

  const string = () => {
    const start = i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) stop("unterminated string", start);
      if (c === '"') return void i++;
      if (c === "\\") {
        const e = text[i + 1];
        if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else stop(`invalid escape \\${e ?? ""} in a string`);
      } else if (c!.charCodeAt(0) < 0x20) {
        stop(`${c === "\n" ? "line break" : `control character ${char(c)}`} inside a string`);
      } else i++;
    }
  };

  const number = () => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) stop("invalid number");
    i += m![0].length;
  };

  const container = (close: "}" | "]") => {
    const open = i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      if (close === "}") {
        if (text[i] === "'") stop("property names need double quotes, not single");
        if (text[i] !== '"') {
          if (i >= text.length) stop('unexpected end of file; missing "}"', open);
          stop(
            /[A-Za-z_$]/.test(text[i]!)
              ? "property names need double quotes"
              : `expected a property name, got ${char(text[i])}`,
          );
        }
        string();
        ws();
        if (text[i] !== ":") stop(`expected ":" after the property name, got ${char(text[i])}`);
        i++;
        ws();
      }
      value();
      ws();
      if (text[i] === close) return void i++;
      if (text[i] !== ",") {
        if (i >= text.length) stop(`unexpected end of file; missing ${JSON.stringify(close)}`, open);
        // A value or key where a comma belongs: by far most often a forgotten comma.
        const missing = /^["{[\d\-tfn]/.test(text[i]!) ? "; missing a comma?" : `, got ${char(text[i])}`;
        stop(`expected "," or ${JSON.stringify(close)}${missing}`);
      }
      const comma = i++;
      ws();
      if (text[i] === close) stop(`trailing comma before ${JSON.stringify(close)}`, comma);
    }
  };

  const value = () => {
    const c = text[i];
    if (c === "{") container("}");
    else if (c === "[") container("]");
    else if (c === '"') string();
    else if (c === "'") stop("strings need double quotes, not single");
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) number();
    else {
      const word = /^(?:true|false|null)\b/.exec(text.slice(i, i + 6));
      if (word) i += word[0].length;
      else unexpected();
    }
  };

  try {
    ws();
    value();
    ws();
    if (i < text.length) stop(`unexpected ${char(text[i])} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, reason: e.reason };
    throw e;
  }
}

/** 1-based line and column of an offset (a CRLF counts as one line break). */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === "\n") {
      line++;
      column = 1;
    } else if (text[k] !== "\r") {
      column++;
    }
  }
  return { line, column };
}
