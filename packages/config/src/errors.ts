export interface ConfigProblem {
  /** Dotted key path, e.g. `agents.claude.api_key`; empty for the whole file. */
  path: string;
  message: string;
}

/**
 * A config that cannot be used. Its message is one line naming the file, the key path and what
 * was expected; it never contains a value, so it is safe to print whatever the key held.
 */
export class ConfigError extends Error {
  readonly file: string;
  readonly problems: ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    const [first] = problems;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    const where = first?.path ? `${first.path}: ` : "";
    super(`config error in ${file}: ${where}${first?.message ?? "invalid"}${more}`);
    this.name = "ConfigError";
    this.file = file;
    this.problems = problems;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
