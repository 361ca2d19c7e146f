// The Jeton Face service (spec: services/jeton-face.md): lends the display's pixels to a host, in
// chunks tagged with the frame number, so a host can tell a picture that changed while it read.
import * as ds from "@devicescript/core"
import { Server } from "@devicescript/server"
import { Image } from "@devicescript/graphics"

const CHUNK_BYTES = 224

export class JetonFaceServer extends Server implements ds.JetonFaceServerSpec {
    frames = 0

    constructor(readonly image: Image) {
        super(ds.JetonFace.spec)
    }

    frame(): number {
        return this.frames
    }

    readPixels(offset: number): any {
        return [this.frames, this.image.width, this.image.height, this.image.buffer.slice(offset, offset + CHUNK_BYTES)]
    }
}
