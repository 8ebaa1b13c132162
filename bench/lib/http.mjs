import { Pool } from "undici";

/**
 * A keep-alive JSON client with a fixed connection pool, on undici (the load generator the issue
 * names): it costs a fraction of node:http's CPU per request, which matters on a 2-core machine
 * where the load generator shares the CPUs with the system it measures.
 */
export function keepAliveClient(baseUrl, key, sockets = 64) {
  const pool = new Pool(baseUrl, { connections: sockets, pipelining: 1, keepAliveTimeout: 60_000 });
  const authorization = `Bearer ${key}`;
  const request = async (method, path, body) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await pool.request({
      method,
      path,
      headers: payload === undefined ? { authorization } : { authorization, "content-type": "application/json" },
      body: payload,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
  };
  return { request, close: () => pool.close() };
}
