// Host side of the Jeton Face service (firmware/services/jeton-face.md): reads the picture the
// token drew, in chunks of one frame, and turns it into a PNG for people (jeton sim --png, docs).
import { jacdac, type JDService } from "../../common/token-service/jacdac.js";
import { encodeGrayPng } from "./png.js";

export const SRV_JETON_FACE = 0x1e70c3a2;
const CMD_READ_PIXELS = 0x80;
const REG_FRAME = 0x180;
const CMD_GET_REGISTER = 0x1000;
const TIMEOUT_MS = 3_000;

/** What the display shows: `ink[y * width + x]` is 1 where the token drew. */
export interface FacePicture {
  frame: number;
  width: number;
  height: number;
  ink: Uint8Array;
}

/** The face service of the device that hosts `token` (the firmware's server device). */
export function faceServiceOf(token: JDService): JDService {
  const face = token.device.services({ serviceClass: SRV_JETON_FACE })[0];
  if (!face) throw new Error("the token exposes no face service (firmware without a drawn display?)");
  return face;
}

/** Number of pictures the token drew since it started. */
export async function readFaceFrame(face: JDService): Promise<number> {
  const resp = await face.sendCmdAwaitResponseAsync(jacdac.Packet.onlyHeader(CMD_GET_REGISTER | REG_FRAME), TIMEOUT_MS);
  if (!resp) throw new Error("the face service did not answer");
  return resp.jdunpack<[number]>("u32")[0];
}

async function readChunk(face: JDService, offset: number): Promise<[number, number, number, Uint8Array]> {
  const resp = await face.sendCmdAwaitResponseAsync(jacdac.Packet.jdpacked(CMD_READ_PIXELS, "u16", [offset]), TIMEOUT_MS);
  if (!resp) throw new Error(`the face service did not answer read_pixels(${offset})`);
  return resp.jdunpack<[number, number, number, Uint8Array]>("u32 u16 u16 b");
}

/** Reads one whole picture; starts over (a few times) when the token draws a new one meanwhile. */
export async function readFace(face: JDService): Promise<FacePicture> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [frame, width, height, first] = await readChunk(face, 0);
    const columnBytes = (height + 7) >> 3;
    const buffer = new Uint8Array(width * columnBytes);
    buffer.set(first.subarray(0, buffer.length));
    let offset = first.length;
    let torn = false;
    while (offset < buffer.length) {
      const [f, , , bytes] = await readChunk(face, offset);
      if (f !== frame) {
        torn = true;
        break;
      }
      if (bytes.length === 0) throw new Error(`picture ends at ${offset} of ${buffer.length} bytes`);
      buffer.set(bytes.subarray(0, buffer.length - offset), offset);
      offset += bytes.length;
    }
    if (torn) continue;
    // DeviceScript 1-bpp image: column-major, least significant bit at the top
    const ink = new Uint8Array(width * height);
    for (let x = 0; x < width; x++)
      for (let y = 0; y < height; y++) ink[y * width + x] = (buffer[x * columnBytes + (y >> 3)] >> (y & 7)) & 1;
    return { frame, width, height, ink };
  }
  throw new Error("the face kept changing while it was read");
}

/**
 * The picture as a PNG, each pixel a `scale` x `scale` square: dark ink on light paper (e-ink), or
 * light on dark with `lightOnDark` (OLED).
 */
export function facePng(picture: FacePicture, scale = 2, lightOnDark = false): Buffer {
  const { width, height, ink } = picture;
  const w = width * scale;
  const gray = new Uint8Array(w * height * scale);
  const on = lightOnDark ? 0xf0 : 0x18;
  const off = lightOnDark ? 0x10 : 0xf4;
  for (let y = 0; y < height * scale; y++)
    for (let x = 0; x < w; x++) gray[y * w + x] = ink[Math.floor(y / scale) * width + Math.floor(x / scale)] ? on : off;
  return encodeGrayPng(w, height * scale, gray);
}
