import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jeton, startServe, type ServerProcess } from "../../support/cli.js";

const mode = (path: string) => statSync(path).mode & 0o777;

describe("the embedded database's files are the server account's alone", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "jeton-modes-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("creates the data directory 0700 and the database, -wal and -shm 0600 under umask 022", async () => {
    const dataDir = join(root, "fresh");
    let server: ServerProcess | undefined;
    try {
      // The child inherits umask 022 from the test runner: only an explicit mode keeps others out.
      server = await startServe({ JETON_DATA_DIR: dataDir });
      expect(mode(dataDir)).toBe(0o700);
      for (const name of ["jeton.sqlite", "jeton.sqlite-wal", "jeton.sqlite-shm", "master.key"]) {
        expect(existsSync(join(dataDir, name)), name).toBe(true);
        expect(mode(join(dataDir, name)), name).toBe(0o600);
      }
    } finally {
      await server?.stop();
    }
  });

  it("refuses a data directory others can reach, naming it and the fix, before creating anything in it", async () => {
    const dataDir = join(root, "open-directory");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    for (const command of [["serve"], ["keys", "create", "--role", "helpdesk"]]) {
      const result = await jeton(command, { JETON_DATA_DIR: dataDir, PORT: "0" });
      expect(result.code, command.join(" ")).not.toBe(0);
      expect(result.stderr).toContain(`the data directory ${dataDir} is open to other accounts (mode 0755): chmod 700 ${dataDir}`);
    }
    expect(existsSync(join(dataDir, "master.key"))).toBe(false);
    expect(existsSync(join(dataDir, "jeton.sqlite"))).toBe(false);
  });

  it("refuses a database or key file others can read, naming it and the fix", async () => {
    const dataDir = join(root, "open-files");
    const server = await startServe({ JETON_DATA_DIR: dataDir });
    await server.stop();
    const database = join(dataDir, "jeton.sqlite");
    chmodSync(database, 0o644);
    const openDatabase = await jeton(["serve"], { JETON_DATA_DIR: dataDir, PORT: "0" });
    expect(openDatabase.code).not.toBe(0);
    expect(openDatabase.stderr).toContain(`the database file ${database} is open to other accounts (mode 0644): chmod 600 ${database}`);
    chmodSync(database, 0o600);
    chmodSync(join(dataDir, "master.key"), 0o640);
    const openKey = await jeton(["serve"], { JETON_DATA_DIR: dataDir, PORT: "0" });
    expect(openKey.code).not.toBe(0);
    expect(openKey.stderr).toMatch(/master\.key is readable by others: chmod 600/);
  });
});
