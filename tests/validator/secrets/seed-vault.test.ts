// The seed vault seals token seeds and RADIUS client secrets under one key, told apart by what each is
// bound to. An attacker review (2026-12-03) made a token row named `radius-client:nas1` holding that
// client's sealed secret (in an edited backup): it opened as a seed, so anyone who knew the NAS secret
// could compute the codes of the user it was assigned to. A serial never holds ":", so none opens now.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import { SeedVault } from "../../../validator/secrets/seed-vault.js";

describe("the seed vault", () => {
  const vault = new SeedVault(masterKeyFrom(randomBytes(32)));

  it("opens a seed under its serial and a RADIUS secret under its client's name", () => {
    const seed = randomBytes(32);
    expect(vault.open("JT00000001", vault.seal("JT00000001", seed))).toEqual(seed);
    const secret = Buffer.from("KnownToEveryNasAdmin0123");
    expect(vault.openRadiusSecret("nas1", vault.sealRadiusSecret("nas1", secret))).toEqual(secret);
  });

  it("never opens a RADIUS client's secret as the seed of a token named after it", () => {
    const sealed = vault.sealRadiusSecret("nas1", Buffer.from("KnownToEveryNasAdmin0123"));
    expect(() => vault.open("radius-client:nas1", sealed)).toThrow(/is not a token serial/);
    expect(() => vault.seal("radius-client:nas1", randomBytes(32))).toThrow(/is not a token serial/);
    expect(() => vault.open("JT00000001", sealed)).toThrow();
  });
});
