/**
 * Catalog tool names (`agent.tool`) ↔ provider-safe function names (`agent__tool`). Providers
 * accept `^[a-zA-Z0-9_-]{1,64}$`; anything else becomes `_`, collisions get a numeric suffix.
 */
export class ToolNameMap {
  private readonly toProvider = new Map<string, string>();
  private readonly toCatalog = new Map<string, string>();

  add(qualified: string): string {
    const existing = this.toProvider.get(qualified);
    if (existing) return existing;
    const dot = qualified.indexOf(".");
    const base = `${qualified.slice(0, dot)}__${qualified.slice(dot + 1)}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 60);
    let name = base;
    for (let n = 2; this.toCatalog.has(name); n++) name = `${base}_${n}`;
    this.toProvider.set(qualified, name);
    this.toCatalog.set(name, qualified);
    return name;
  }

  catalogName(providerName: string): string | undefined {
    return this.toCatalog.get(providerName);
  }
}

/** `agent.tool`, `agent.*` or `*` against a qualified tool name. */
export function matchesToolPattern(pattern: string, qualified: string): boolean {
  if (pattern === "*" || pattern === qualified) return true;
  if (!pattern.includes("*")) return false;
  const regex = new RegExp(`^${pattern.split("*").map(escapeRegex).join(".*")}$`);
  return regex.test(qualified);
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}
