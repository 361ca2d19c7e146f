// The batch input: one row per user, optionally with the serial printed on the token's case.
//
//   user,serial          <- optional header
//   jdupont,JT00000042
//   mmartin              <- a fresh serial is drawn
//   # comments and blank lines are ignored; ";" works as separator too (spreadsheet exports)
//
// Malformed rows are reported with their line number and left out; the others go ahead.
import { userId } from "../common/identifiers.js";
import { serialProblem } from "./serial-number.js";
import type { ProvisionerProfile } from "./token-profile.js";

export interface BatchRow {
  /** 1-based line number in the file */
  line: number;
  user: string;
  serial?: string;
}

export interface MalformedRow {
  line: number;
  text: string;
  problem: string;
}

export function parseBatchCsv(content: string, profile: ProvisionerProfile): { rows: BatchRow[]; malformed: MalformedRow[] } {
  const rows: BatchRow[] = [];
  const malformed: MalformedRow[] = [];
  const serials = new Map<string, number>();
  let headerAllowed = true;
  content
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = index + 1;
      const text = raw.trim();
      if (text === "" || text.startsWith("#")) return;
      const separator = text.includes(",") ? "," : ";";
      const fields = text.split(separator).map((f) => f.trim());
      if (headerAllowed) {
        headerAllowed = false;
        if (fields[0]?.toLowerCase() === "user") return;
      }
      const bad = (problem: string) => malformed.push({ line, text, problem });
      if (fields.length > 2) return bad(`${fields.length} columns; expected user[,serial]`);
      const [user = "", serial = ""] = fields;
      const identifier = userId.safeParse(user);
      if (!identifier.success) return bad(user ? `"${user}" is not an academic identifier (${identifier.error.issues[0]?.message})` : "no user");
      if (serial) {
        const refused = serialProblem(serial, profile);
        if (refused) return bad(refused);
        const first = serials.get(serial);
        if (first !== undefined) return bad(`serial ${serial} already on line ${first}`);
        serials.set(serial, line);
      }
      rows.push({ line, user: identifier.data, ...(serial && { serial }) });
    });
  return { rows, malformed };
}
