// Two first starts on a fresh data directory (two `jeton serve`, or serve with `jeton keys create`) race
// to create the master key. The other instance's key is made to land just before this one's is linked
// into place; this one must then load that key, never fail (an attacker review, 2026-12-03, found
// "EEXIST: file already exists") and never replace it.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";

const otherInstance = { path: "", key: "" };
vi.mock("node:fs", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs")>();
  return {
    ...actual,
    linkSync: (...args: Parameters<typeof actual.linkSync>) => {
      if (args[1] === otherInstance.path && !actual.existsSync(otherInstance.path)) {
        actual.writeFileSync(otherInstance.path, otherInstance.key, { mode: 0o600, flag: "wx" });
      }
      return actual.linkSync(...args);
    },
  };
});

const { loadMasterKey, masterKeyFrom } = await import("../../../validator/secrets/master-key.js");

describe("master key creation racing another instance", () => {
  const directory = mkdtempSync(join(tmpdir(), "jeton-key-race-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("loads the key another instance created meanwhile, and leaves no temporary file", () => {
    const bytes = randomBytes(32);
    otherInstance.path = join(directory, "master.key");
    otherInstance.key = bytes.toString("base64") + "\n";
    const loaded = loadMasterKey(otherInstance.path, true);
    expect(loaded.key.id).toBe(masterKeyFrom(bytes).id);
    expect(loaded.created).toBe(false);
    expect(readdirSync(directory)).toEqual(["master.key"]);
  });

  it("creates a whole key, mode 0600, when none exists", () => {
    const path = join(directory, "fresh", "master.key");
    const created = loadMasterKey(path, true);
    expect(created.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadMasterKey(path, false).key.id).toBe(created.key.id);
    expect(readdirSync(join(directory, "fresh"))).toEqual(["master.key"]);
  });
});
