/** The api's operations as its OpenAPI document lists them: the source the access and fuzz scenarios are generated from. */
type Role = "viewer" | "operator" | "admin";

export interface Operation {
  method: string;
  path: string;
  /** null: public (no key needed). */
  role: Role | null;
}

/**
 * Every operation the api serves, read from its own OpenAPI document (built from the route table,
 * plus the routes added with a `requireRole` guard, whose role the guard itself names).
 */
export async function operations(base: string): Promise<Operation[]> {
  const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown[]; "x-switchyard-role"?: Role }>>;
  };
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) {
      const role = Array.isArray(op.security) && op.security.length === 0 ? null : (op["x-switchyard-role"] ?? null);
      out.push({ method: method.toUpperCase(), path, role });
    }
  return out;
}

/** An operation's path with every parameter filled. */
export function fill(path: string, value = "zz_nonexistent"): string {
  return path.replace(/\{[^}]+\}|:[A-Za-z_]+/g, value);
}
