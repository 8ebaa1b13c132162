/**
 * `auth.agent_url_allowlist`: where agents registered by non-admin keys may point. An entry is a
 * bare host (`api.example.com`: any scheme and port) or a URL prefix (`https://h:8443/mcp`: same
 * scheme and host, the port when the entry names one, and a path under the entry's path).
 * Matching is on parsed URLs, never on raw string prefixes, so `http://127.0.0.1.evil.test`
 * does not pass for `http://127.0.0.1`.
 */
export function urlAllowed(candidate: string, allowlist: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  return allowlist.some((entry) => {
    if (!entry.includes("://")) return url.hostname.toLowerCase() === entry.toLowerCase().replace(/\.$/, "");
    let allowed: URL;
    try {
      allowed = new URL(entry);
    } catch {
      return false;
    }
    if (allowed.protocol !== url.protocol || allowed.hostname !== url.hostname) return false;
    if (/^[a-z]+:\/\/[^/]*:\d+/i.test(entry) && allowed.port !== url.port) return false;
    const base = allowed.pathname.endsWith("/") ? allowed.pathname : `${allowed.pathname}/`;
    return allowed.pathname === "/" || url.pathname === allowed.pathname || url.pathname.startsWith(base);
  });
}

/** Every URL an agent config points at (`url`, `base_url`, at any depth). */
export function agentUrls(config: unknown): string[] {
  const out: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8 || value === null || typeof value !== "object") return;
    for (const [key, inner] of Object.entries(value)) {
      if ((key === "url" || key === "base_url") && typeof inner === "string") out.push(inner);
      else visit(inner, depth + 1);
    }
  };
  visit(config, 0);
  return out;
}
