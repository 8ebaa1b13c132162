import { RouteTable, undeclaredRoutes } from "@switchyard/api";
import { Router } from "express";
import { describe, expect, it } from "vitest";
import { z } from "zod";

describe("route table", () => {
  it("finds routes added to a router without the table, nested and mounted ones included", () => {
    const table = new RouteTable();
    const api = Router();
    const declared = Router();
    table.add(
      declared,
      {
        method: "post",
        path: "/things",
        operationId: "createThing",
        summary: "Create",
        tag: "Things",
        role: "operator",
        body: z.object({ a: z.string() }),
        responses: { 201: { description: "ok" } },
      },
      () => {},
    );
    const raw = Router();
    raw.get("/raw/:id", () => {});
    raw.delete("/raw/:id", () => {});
    api.use(declared);
    api.use("/sub", raw);
    const extra = undeclaredRoutes(table, api);
    expect(extra.map((r) => `${r.method} ${r.path}`).sort()).toEqual(["delete /sub/raw/:id", "get /sub/raw/:id"]);
    expect(extra[0]).toMatchObject({ undocumented: true, params: { id: "" } });
  });
});
