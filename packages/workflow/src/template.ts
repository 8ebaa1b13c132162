import jsonata from "jsonata";

/**
 * Templating: strings may hold `{{ expression }}` where the expression is JSONata, evaluated
 * against a scope `{ input, steps: { <id>: { output, status } }, item, index, context }`.
 * A string that is exactly one `{{ … }}` yields the expression's value unchanged (an object stays
 * an object); otherwise each `{{ … }}` is replaced by its text.
 */
const TEMPLATE = /\{\{([\s\S]+?)\}\}/g;
const WHOLE = /^\s*\{\{([\s\S]+?)\}\}\s*$/;

export type Scope = Record<string, unknown>;

const compiled = new Map<string, jsonata.Expression>();

function compile(expression: string): jsonata.Expression {
  let expr = compiled.get(expression);
  if (!expr) {
    expr = jsonata(expression);
    if (compiled.size > 5_000) compiled.clear();
    compiled.set(expression, expr);
  }
  return expr;
}

export async function evaluate(expression: string, scope: Scope): Promise<unknown> {
  const value = await compile(expression).evaluate(scope);
  return normalise(value);
}

/** JSONata sequences are arrays with extra flags; undefined (no match) becomes null. */
function normalise(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value) ?? "null");
}

export async function render(value: unknown, scope: Scope): Promise<unknown> {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole?.[1] && !whole[1].includes("{{")) return evaluate(whole[1], scope);
    if (!value.includes("{{")) return value;
    let out = "";
    let last = 0;
    for (const match of value.matchAll(TEMPLATE)) {
      out += value.slice(last, match.index);
      const result = await evaluate(match[1] ?? "", scope);
      out += typeof result === "string" ? result : JSON.stringify(result);
      last = (match.index ?? 0) + match[0].length;
    }
    return out + value.slice(last);
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => render(v, scope)));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = await render(v, scope);
    return out;
  }
  return value;
}

/** A condition: `{{ expr }}` or a bare JSONata expression; truthy per JSONata's $boolean. */
export async function condition(expression: string, scope: Scope): Promise<boolean> {
  const whole = WHOLE.exec(expression);
  const value = await compile(`$boolean(${whole?.[1] ?? expression})`).evaluate(scope);
  return value === true;
}

/** Every expression inside a value (for validation). */
export function expressionsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") for (const match of value.matchAll(TEMPLATE)) out.push(match[1] ?? "");
  else if (Array.isArray(value)) for (const v of value) expressionsIn(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) expressionsIn(v, out);
  return out;
}

/** Parse errors of an expression, or undefined when it compiles. */
export function syntaxError(expression: string): string | undefined {
  try {
    jsonata(expression);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Step ids an expression reads: `steps.a`, `steps.\`my-step\``, `$.steps.a`. */
export function referencedSteps(expression: string): string[] {
  const ids = new Set<string>();
  for (const match of expression.matchAll(/\bsteps\s*\.\s*(?:`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*))/g)) ids.add(match[1] ?? match[2] ?? "");
  return [...ids];
}
