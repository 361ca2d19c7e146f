// Reading the token's drawn face in tests, and (with JETON_FACE_PICTURES=<dir>) saving each face
// as the PNG shown in hardware/README.md:
//   JETON_FACE_PICTURES=hardware/faces npx vitest run tests/firmware/token-face.test.ts
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { inflateSync } from "node:zlib";
import { expect } from "vitest";
import { faceServiceOf, facePng, readFace, readFaceFrame, type FacePicture } from "../../hardware/sim/face-client.js";
import type { TokenSim } from "../../hardware/sim/token-sim.js";

/** The face drawn for screen text `text`: waits for the text, then reads the picture. */
export async function faceShowing(
  sim: TokenSim,
  predicate: (text: string) => boolean,
  timeoutMs = 10_000,
): Promise<{ text: string; face: FacePicture }> {
  const text = await sim.token.waitForScreen(predicate, timeoutMs);
  // the firmware publishes the text after the picture is drawn: this picture is at least that new
  const face = await readFace(faceServiceOf(sim.token.token));
  const still = await sim.token.screenText();
  if (still !== text) return faceShowing(sim, predicate, timeoutMs);
  return { text, face };
}

export { readFaceFrame };

export function savePicture(name: string, face: FacePicture, lightOnDark = false): void {
  const dir = process.env.JETON_FACE_PICTURES;
  if (!dir) return;
  mkdirSync(resolve(dir), { recursive: true });
  writeFileSync(join(resolve(dir), `${name}.png`), facePng(face, 2, lightOnDark));
}

/**
 * A face back from a PNG written by facePng (8-bit gray, no filter), sampled every `scale` pixels:
 * dark pixels are ink unless `lightOnDark`.
 */
export function faceFromPng(png: Buffer, scale = 2, lightOnDark = false): FacePicture {
  expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  let offset = 8;
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString("latin1");
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect([body[8], body[9]]).toEqual([8, 0]);
    } else if (type === "IDAT") data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const face = { frame: 0, width: width / scale, height: height / scale, ink: new Uint8Array((width / scale) * (height / scale)) };
  for (let y = 0; y < face.height; y++)
    for (let x = 0; x < face.width; x++) {
      const gray = raw[y * scale * (width + 1) + 1 + x * scale];
      face.ink[y * face.width + x] = (gray < 128) !== lightOnDark ? 1 : 0;
    }
  return face;
}
