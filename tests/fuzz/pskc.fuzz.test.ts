import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildPskc } from "../../provisioner/pskc/export.js";
import type { PskcProtection } from "../../provisioner/pskc/protection.js";
import { readPskc } from "../../provisioner/pskc/read.js";
import { CommandFailure } from "../../common/failure.js";
import { fuzzRuns } from "./fuzz-runs.js";

const protection: PskcProtection = { kind: "pre-shared-key", key: randomBytes(16), keyName: "fuzz" };
const entries = [
  { serial: "JT00000001", seed: randomBytes(32), algorithm: "SHA256" as const, digits: 6, period: 60 },
  { serial: "JT00000002", seed: randomBytes(20), algorithm: "SHA1" as const, digits: 8, period: 30 },
];
const valid = buildPskc(entries, protection);

/** Either the keys of a well-formed file or a CommandFailure naming the problem: never another error. */
function readOrRefuse(xml: string): ReturnType<typeof readPskc> | CommandFailure {
  try {
    return readPskc(xml, protection);
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(CommandFailure);
    return error as CommandFailure;
  }
}

describe("fuzz: PSKC importer", () => {
  it("reads back what was exported", () => {
    const keys = readOrRefuse(valid);
    expect(keys).not.toBeInstanceOf(CommandFailure);
    expect((keys as ReturnType<typeof readPskc>).map((key) => Buffer.from(key.seed))).toEqual(entries.map((entry) => Buffer.from(entry.seed)));
  });

  it("any text is refused with a clear message or read, never crashes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), fc.constant("<KeyContainer/>"), fc.constant("<a><b></a>")), (xml) => {
        readOrRefuse(xml);
      }),
      { numRuns: fuzzRuns },
    );
  });

  it("a mutated export never yields a different seed: the MAC refuses it or the seeds are intact", () => {
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.string({ minLength: 1, maxLength: 8 }), fc.nat(16), (at, insert, removeCount) => {
        const mutated = valid.slice(0, at) + insert + valid.slice(at + Math.min(removeCount, valid.length - at));
        const outcome = readOrRefuse(mutated);
        if (outcome instanceof CommandFailure) return;
        for (const key of outcome) {
          const original = entries.find((entry) => entry.serial === key.serial);
          if (original) expect(Buffer.from(key.seed)).toEqual(Buffer.from(original.seed));
        }
      }),
      { numRuns: fuzzRuns },
    );
  });
});

describe("fuzz: PSKC substitutions (finding 2)", () => {
  const many = Array.from({ length: 4 }, (_, i) => ({ serial: `JT0000001${i}`, seed: randomBytes(32), algorithm: "SHA256" as const, digits: 6, period: 60 }));
  const exported = buildPskc(many, protection);
  const [head, ...packages] = exported.split("<KeyPackage>");
  const part = (xml: string, pattern: RegExp) => pattern.exec(xml)![0];
  const SECRET = /<Secret>[\s\S]*?<\/Secret>/;
  const BINDING = /<Extensions[\s\S]*?<\/Extensions>/;

  it("moving, copying or swapping encrypted values between packages, with or without their bindings, is always refused", () => {
    fc.assert(
      fc.property(fc.nat(3), fc.nat(3), fc.boolean(), fc.boolean(), fc.boolean(), (from, to, swap, withBinding, dropSource) => {
        fc.pre(from !== to);
        const edited = [...packages];
        const moveInto = (target: number, source: number) => {
          let xml = edited[target]!.replace(part(edited[target]!, SECRET), part(packages[source]!, SECRET));
          if (withBinding) xml = xml.replace(part(xml, BINDING), part(packages[source]!, BINDING));
          edited[target] = xml;
        };
        moveInto(to, from);
        if (swap) moveInto(from, to);
        const kept = edited.filter((_, i) => !(dropSource && !swap && i === from));
        const xml = [head, ...kept].join("<KeyPackage>") + (kept.at(-1)!.includes("</KeyContainer>") ? "" : "\n</KeyContainer>\n");
        expect(readOrRefuse(xml)).toBeInstanceOf(CommandFailure);
      }),
      { numRuns: fuzzRuns },
    );
  });

  it("a PlainValue in place of any encrypted secret is always refused", () => {
    fc.assert(
      fc.property(fc.nat(3), fc.uint8Array({ minLength: 16, maxLength: 64 }), (at, seed) => {
        const edited = [...packages];
        edited[at] = edited[at]!.replace(part(edited[at]!, SECRET), `<Secret><PlainValue>${Buffer.from(seed).toString("base64")}</PlainValue></Secret>`);
        expect(readOrRefuse([head, ...edited].join("<KeyPackage>"))).toBeInstanceOf(CommandFailure);
      }),
      { numRuns: fuzzRuns },
    );
  });
});
