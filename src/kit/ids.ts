// Ids that name files are validated before any lookup, so a crafted id never reaches the filesystem.
import { randomUUID } from "node:crypto";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const newId = (): string => randomUUID();

/** True for a canonical lower-case RFC 9562 UUID and nothing else. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}
