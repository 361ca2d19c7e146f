// Reading the token's drawn face in tests, and (with JETON_FACE_PICTURES=<dir>) saving each face
// as the PNG shown in hardware/README.md:
//   JETON_FACE_PICTURES=hardware/faces npx vitest run tests/firmware/token-face.test.ts
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { faceServiceOf, facePng, readFace, readFaceFrame, type FacePicture } from "../../hardware/sim/face-client.js";
import type { TokenSim } from "../../hardware/sim/token-sim.js";

/** The face drawn for screen text `text`: waits for the text, then reads the picture. */
export async function faceShowing(sim: TokenSim, predicate: (text: string) => boolean): Promise<{ text: string; face: FacePicture }> {
  const text = await sim.token.waitForScreen(predicate);
  // the firmware publishes the text after the picture is drawn: this picture is at least that new
  const face = await readFace(faceServiceOf(sim.token.token));
  const still = await sim.token.screenText();
  if (still !== text) return faceShowing(sim, predicate);
  return { text, face };
}

export { readFaceFrame };

export function savePicture(name: string, face: FacePicture, lightOnDark = false): void {
  const dir = process.env.JETON_FACE_PICTURES;
  if (!dir) return;
  mkdirSync(resolve(dir), { recursive: true });
  writeFileSync(join(resolve(dir), `${name}.png`), facePng(face, 2, lightOnDark));
}
