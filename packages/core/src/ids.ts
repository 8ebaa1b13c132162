import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower-case

/**
 * Time-sortable ids (48-bit ms timestamp + 80 random bits, Crockford base32, like ULID):
 * listing by id is listing by creation time, and ids never collide across api replicas.
 */
export function newId(prefix: string, now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBlock();
  let rand = "";
  for (let i = 0; i < 16; i++) rand += ALPHABET[(bytes[i] ?? 0) % 32];
  return `${prefix}_${time}${rand}`;
}

/**
 * 16 random bytes from a pool refilled 4 KiB at a time (as Node's randomUUID does): one
 * getrandom call per 256 ids instead of one each. The bytes are used before the next call.
 */
const pool = Buffer.allocUnsafe(4_096);
let offset = pool.length;
function randomBlock(): Buffer {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const block = pool.subarray(offset, offset + 16);
  offset += 16;
  return block;
}

export const ID_PATTERN = /^[a-z]{2,5}_[0-9a-z]{26}$/;
