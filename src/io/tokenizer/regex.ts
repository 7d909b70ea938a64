/**
 * Oniguruma → JavaScript regex translation for tokenizer.json patterns.
 *
 * The Rust `tokenizers` crate compiles `Split`/`ByteLevel` patterns with Oniguruma (onig crate,
 * Ruby syntax, Unicode). JavaScript `RegExp` with the `u` flag agrees on most syntax but differs
 * in a few classes that matter for real tokenizers:
 *   - `\s`: Oniguruma = Unicode White_Space (includes U+0085, excludes U+FEFF); JS `\s` is the
 *     reverse on both. We emit `\p{White_Space}`, which is exactly Oniguruma's set.
 *   - `\w`/`\d`: Unicode in Oniguruma (Letter|Mark|Number|Connector_Punctuation, and Nd), ASCII in JS.
 *   - `.` excludes only `\n` in Oniguruma; JS also excludes `\r`, U+2028, U+2029.
 *   - `^`/`$` are line anchors in Oniguruma's Ruby syntax (`\A`/`\z` anchor the string).
 *   - `(?i:...)` scoped case-insensitivity (Llama-3 / Qwen contraction patterns) is not available
 *     in Node 20; we expand ASCII letters inside such groups to `[xX]` classes.
 *   - `\A`, `\z`, `\x{HHHH}`, and identity escapes such as `\'` that the `u` flag rejects.
 */
import { TokenizerError } from "../../errors.js";

const WORD = "\\p{L}\\p{M}\\p{N}\\p{Pc}";

/** Translate an Oniguruma pattern to an equivalent JS source string (to compile with the `u` flag). */
export function onigToJs(pattern: string): string {
  let out = "";
  let inClass = 0; // nesting depth of [...] (Oniguruma allows nested classes)
  // Stack of "is this group case-insensitive"; index 0 is the top level.
  const ci: boolean[] = [false];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n === undefined) throw new Error("trailing backslash");
      i++;
      switch (n) {
        case "s": out += "\\p{White_Space}"; break;
        case "S": out += inClass ? unsupported("\\S inside a character class") : "\\P{White_Space}"; break;
        case "d": out += "\\p{Nd}"; break;
        case "D": out += inClass ? unsupported("\\D inside a character class") : "\\P{Nd}"; break;
        case "w": out += inClass ? WORD : `[${WORD}]`; break;
        case "W": out += inClass ? unsupported("\\W inside a character class") : `[^${WORD}]`; break;
        case "A": out += "^"; break;
        case "z": out += "$"; break;
        case "Z": out += "(?=\\n?$)"; break;
        case "h": out += inClass ? "0-9a-fA-F" : "[0-9a-fA-F]"; break;
        case "x": {
          if (pattern[i + 1] === "{") {
            const close = pattern.indexOf("}", i);
            out += `\\u{${pattern.slice(i + 2, close)}}`;
            i = close;
          } else {
            out += "\\x";
          }
          break;
        }
        case "p":
        case "P": {
          // \p{Name}: copy whole, so a (?i:) group does not rewrite the property name's letters.
          const close = pattern[i + 1] === "{" ? pattern.indexOf("}", i) : i + 1;
          out += "\\" + pattern.slice(i, close + 1);
          i = close;
          break;
        }
        case "u":
          out += "\\" + pattern.slice(i, i + 5);
          i += 4;
          break;
        default:
          if (/[A-Za-z0-9]/.test(n)) out += "\\" + n; // \n \t \p{..} \u.... \b \1 … mean the same
          else if ("^$\\.*+?()[]{}|/".includes(n) || (inClass && n === "-")) out += "\\" + n;
          else out += n; // identity escape of a harmless character (\' \" \  \# …)
      }
      continue;
    }
    if (inClass) {
      if (c === "[") {
        // A nested class: JS (u mode, no v flag) cannot nest, but a nested positive class inside a
        // positive class is a union, so splice its content in.
        if (pattern[i + 1] === "^") unsupported("nested negated character class");
        if (pattern[i + 1] === ":") unsupported("POSIX bracket expression");
        inClass++;
        continue;
      }
      if (c === "]") {
        inClass--;
        if (inClass === 0) out += "]";
        continue;
      }
      if (c === "&" && pattern[i + 1] === "&") unsupported("character class intersection (&&)");
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = 1;
      out += "[";
      if (pattern[i + 1] === "^") { out += "^"; i++; }
      if (pattern[i + 1] === "]") { out += "\\]"; i++; } // a leading ] is literal in Oniguruma
      continue;
    }
    if (c === "(") {
      if (pattern.startsWith("(?i:", i)) {
        ci.push(true);
        out += "(?:";
        i += 3;
        continue;
      }
      if (pattern.startsWith("(?>", i)) unsupported("atomic group (?>...)");
      ci.push(ci[ci.length - 1]!);
      out += "(";
      continue;
    }
    if (c === ")") {
      ci.pop();
      out += ")";
      continue;
    }
    if (c === ".") {
      out += "[^\\n]";
      continue;
    }
    // Ruby syntax: ^ and $ are line anchors (only \n ends a line); JS's are string anchors here.
    if (c === "^") {
      out += "(?<![^\\n])";
      continue;
    }
    if (c === "$") {
      out += "(?![^\\n])";
      continue;
    }
    // Possessive quantifiers (x*+, x++, x?+) have no JS equivalent; lazy ones (x*?) mean the same.
    if (c === "+" && /[*+?]/.test(pattern[i - 1] ?? "") && pattern[i - 2] !== "\\") unsupported("possessive quantifier");
    if (ci[ci.length - 1] && /[A-Za-z]/.test(c)) {
      out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
      continue;
    }
    out += c;
  }
  return out;
}

function unsupported(what: string): never {
  throw new Error(`unsupported regex construct: ${what}`);
}

/** Compile a tokenizer.json regex (global, Unicode); a pattern JS cannot express → TokenizerError. */
export function compileOnig(pattern: string, where: { file?: string; field: string }): RegExp {
  try {
    return new RegExp(onigToJs(pattern), "gu");
  } catch (e) {
    throw new TokenizerError("TOKENIZER_REGEX", `cannot translate the regex ${JSON.stringify(pattern)}: ${(e as Error).message}`, {
      file: where.file,
      field: where.field,
      fix: "use a tokenizer whose Split/ByteLevel patterns avoid atomic groups, possessive quantifiers and class intersections",
      cause: e,
    });
  }
}

/** Escape a literal string for use inside a JS regex. */
export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}
