// The few I2C register operations the RTC drivers need, behind an interface so the register
// encoding can be unit-tested on the VM against an in-memory chip (the VM has no I2C).
import { i2c } from "@devicescript/i2c"

export interface RegisterBus {
    readRegisters(register: number, count: number): Promise<Buffer>
    writeRegisters(register: number, data: Buffer): Promise<void>
}

export class I2cRegisterBus implements RegisterBus {
    constructor(readonly address: number) {}

    async readRegisters(register: number, count: number): Promise<Buffer> {
        return await i2c.readRegBuf(this.address, register, count)
    }

    async writeRegisters(register: number, data: Buffer): Promise<void> {
        await i2c.writeRegBuf(this.address, register, data)
    }
}
