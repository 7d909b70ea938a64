/**
 * Errors a user can cause. Each names the file or field at fault and how to fix it, so the CLI
 * can print one clear line instead of a stack trace (DESIGN.md: "No stack traces for user mistakes").
 */
export class ScalpelError extends Error {
  /** Stable machine-readable code, e.g. "SAFETENSORS_HEADER". */
  readonly code: string;
  /** The file the problem is in, when there is one. */
  readonly file?: string;
  /** The config key / tensor name / field at fault, when there is one. */
  readonly field?: string;
  /** What the user should do about it. */
  readonly fix?: string;

  constructor(code: string, message: string, opts: { file?: string; field?: string; fix?: string; cause?: unknown } = {}) {
    const where = [opts.file && `file ${opts.file}`, opts.field && `field ${opts.field}`].filter(Boolean).join(", ");
    const located = `${message}${where ? ` (${where})` : ""}`;
    const fix = opts.fix ? `${/[.?!]$/.test(located) ? "" : "."} Fix: ${opts.fix}` : "";
    super(located + fix, { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = opts.file;
    this.field = opts.field;
    this.fix = opts.fix;
  }
}

/** A checkpoint file (safetensors, shard index, pytorch .bin) is corrupt, hostile or unsupported. */
export class CheckpointError extends ScalpelError {}
/** A config (HF config.json or an experiment config) has a bad, unknown or missing field. */
export class ConfigError extends ScalpelError {}
/** tokenizer.json / tokenizer.model cannot be read or uses an unsupported feature. */
export class TokenizerError extends ScalpelError {}
/** config.model_type names an architecture scalpel does not implement. */
export class UnsupportedArchitectureError extends ScalpelError {}
/** Bad command-line usage. */
export class UsageError extends ScalpelError {}
/** The compute device asked for cannot be used here (no WebGPU adapter, …). */
export class EngineError extends ScalpelError {}
