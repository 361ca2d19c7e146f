// The batch's input and journal on their own: CSV rows and their line-numbered problems, and a
// journal that refuses another CSV's history and survives a record cut short by a crash.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parseBatchCsv } from "../../provisioner/batch-csv.js";
import { BatchJournal } from "../../provisioner/batch-journal.js";
import { loadProvisionerProfile } from "../../provisioner/token-profile.js";

const profile = loadProvisionerProfile();
const dir = mkdtempSync(join(tmpdir(), "jeton-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("batch CSV", () => {
  test("header, comments, blank lines, BOM, CRLF and ';' separators", () => {
    const { rows, malformed } = parseBatchCsv("\uFEFFUser;Serial\r\n# comment\r\n\r\njdupont;JT00000042\r\nm.martin@univ.example\r\n", profile);
    expect(malformed).toEqual([]);
    expect(rows).toEqual([
      { line: 4, user: "jdupont", serial: "JT00000042" },
      { line: 5, user: "m.martin@univ.example" },
    ]);
  });

  test("each malformed row is reported with its line number and the others are kept", () => {
    const { rows, malformed } = parseBatchCsv(["jdupont", ",JT00000001", "a b", "x,JT1", "y,JT00000007", "z,JT00000007", "w,JT00000008,extra"].join("\n"), profile);
    expect(rows.map((r) => r.line)).toEqual([1, 5]);
    expect(malformed.map((m) => [m.line, m.problem])).toEqual([
      [2, "no user"],
      [3, '"a b" is not an academic identifier (1–128 letters, digits or . _ @ + -)'],
      [4, 'serial "JT1" does not match the token profile (^JT[0-9]{8}$, e.g. JT00000042)'],
      [6, "serial JT00000007 already on line 5"],
      [7, "3 columns; expected user[,serial]"],
    ]);
  });

  test("users are stored in the one normalised spelling; serials follow the validator's rule even when the profile allows more", () => {
    const dotted = { ...profile, serialPattern: /^[A-Z.]{1,8}$/, serialExample: "AB.CD" };
    const { rows, malformed } = parseBatchCsv(["JDupont,AB.CD", "M.Martin@Univ.Example", "x,..", "y,."].join("\n"), dotted);
    expect(rows).toEqual([
      { line: 1, user: "jdupont", serial: "AB.CD" },
      { line: 2, user: "m.martin@univ.example" },
    ]);
    expect(malformed.map((m) => m.problem)).toEqual([
      'serial ".." is refused ("." and ".." cannot be identifiers: no URL can name them)',
      'serial "." is refused ("." and ".." cannot be identifiers: no URL can name them)',
    ]);
  });
});

describe("batch journal", () => {
  test("records rows, reloads them, and tolerates a last record cut short", () => {
    const path = join(dir, "a.journal");
    const journal = BatchJournal.open(path, "jdupont\n");
    journal.append({ type: "row", line: 1, user: "jdupont", state: "writing", serial: "JT00000001", at: "t" });
    appendFileSync(path, '{"type":"row","line":1,"user":"jdupont","sta');
    const reopened = BatchJournal.open(path, "jdupont\n");
    expect(reopened.history.get(1)).toEqual({ state: "writing", serial: "JT00000001" });
  });

  test("refuses a journal written for another version of the CSV, and a damaged one", () => {
    const path = join(dir, "b.journal");
    BatchJournal.open(path, "jdupont\n");
    expect(() => BatchJournal.open(path, "jdupont\nmmartin\n")).toThrow(/written for a different version of the CSV/);
    const damaged = join(dir, "c.journal");
    BatchJournal.open(damaged, "x\n");
    appendFileSync(damaged, "not json\n{}\n");
    expect(() => BatchJournal.open(damaged, "x\n")).toThrow(/damaged at line 2/);
    expect(readFileSync(path, "utf8").split("\n").filter(Boolean)).toHaveLength(1);
  });
});
