import { describe, expect, it } from "vitest";
import { ConfigurationError, configFromEnvironment } from "../../../validator/config.js";

describe("server configuration from the environment", () => {
  it("keeps locks until a help-desk unlock unless JETON_AUTO_UNLOCK_MINUTES is set", () => {
    expect(configFromEnvironment({}).autoUnlockMinutes).toBeNull();
    expect(configFromEnvironment({ JETON_AUTO_UNLOCK_MINUTES: "" }).autoUnlockMinutes).toBeNull();
    expect(configFromEnvironment({ JETON_AUTO_UNLOCK_MINUTES: "30" }).autoUnlockMinutes).toBe(30);
  });

  it.each(["0", "-5", "1.5", "soon", "525601"])("refuses JETON_AUTO_UNLOCK_MINUTES=%s, naming the variable", (value) => {
    expect(() => configFromEnvironment({ JETON_AUTO_UNLOCK_MINUTES: value })).toThrow(ConfigurationError);
    expect(() => configFromEnvironment({ JETON_AUTO_UNLOCK_MINUTES: value })).toThrow(/JETON_AUTO_UNLOCK_MINUTES/);
  });
});
