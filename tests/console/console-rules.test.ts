// The console's pure pieces: session limits, local calendar days for the audit filter, redirect targets.
import { describe, expect, test } from "vitest";
import { configFromEnvironment, ConfigurationError, trustProxyWarning } from "../../validator/config.js";
import { localPath } from "../../validator/console/console-server.js";
import { SignInLimit, sourceBlock } from "../../validator/console/sign-in-limit.js";
import { localDayBounds } from "../../validator/console/time-format.js";
import { defaultConsoleSessionLimits as limits, secondsLeft, sessionEnd, steppedUp } from "../../validator/policy/console-session.js";

describe("console session limits", () => {
  const signedIn = Date.UTC(2026, 11, 2, 8, 0, 0);
  const session = (lastSeenMinutes: number, steppedUpMinutes: number | null = 0) => ({
    createdAt: signedIn,
    lastSeenAt: signedIn + lastSeenMinutes * 60_000,
    steppedUpAt: steppedUpMinutes === null ? null : signedIn + steppedUpMinutes * 60_000,
  });
  const at = (minutes: number) => signedIn + minutes * 60_000;

  test("idle for 15 minutes ends it; activity starts the idle time over", () => {
    expect(sessionEnd(session(0), at(15) - 1, limits)).toBeNull();
    expect(sessionEnd(session(0), at(15), limits)).toBe("idle");
    expect(sessionEnd(session(14), at(28), limits)).toBeNull();
    expect(secondsLeft(session(14), at(28), limits)).toBe(60);
  });

  test("10 hours after sign-in it ends whatever the activity, and the time left says so", () => {
    expect(sessionEnd(session(599), at(600) - 1, limits)).toBeNull();
    expect(sessionEnd(session(599), at(600), limits)).toBe("max-age");
    expect(secondsLeft(session(595), at(596), limits)).toBe(4 * 60);
  });

  test("a step-up lasts 10 minutes; none yet means none", () => {
    expect(steppedUp(session(0, 0), at(10) - 1, limits)).toBe(true);
    expect(steppedUp(session(0, 0), at(10), limits)).toBe(false);
    expect(steppedUp(session(0, null), at(0), limits)).toBe(false);
  });
});

describe("local calendar days for the audit filter", () => {
  test("a Paris day in winter is 23:00 UTC the day before to 22:59:59.999 UTC", () => {
    expect(localDayBounds("2026-12-02", "Europe/Paris")).toEqual({ start: Date.UTC(2026, 11, 1, 23, 0, 0), end: Date.UTC(2026, 11, 2, 22, 59, 59, 999) });
  });

  test("the day clocks go back lasts 25 hours, the day they go forward 23", () => {
    const autumn = localDayBounds("2026-10-25", "Europe/Paris")!;
    expect(autumn.end + 1 - autumn.start).toBe(25 * 3600_000);
    const spring = localDayBounds("2026-03-29", "Europe/Paris")!;
    expect(spring.end + 1 - spring.start).toBe(23 * 3600_000);
  });

  test("anything but a real YYYY-MM-DD date is refused", () => {
    for (const text of ["2026-02-30", "2026-13-01", "02/12/2026", "2026-12-2", "", "2026-12-02T00:00"]) expect(localDayBounds(text, "Europe/Paris")).toBeNull();
  });
});

describe("redirect targets after the language switch", () => {
  test("only console paths, never another site", () => {
    expect(localPath("/console/users/carol")).toBe("/console/users/carol");
    expect(localPath("/console/search?q=jos%C3%A9+d")).toBe("/console/search?q=jos%C3%A9+d");
    for (const hostile of ["https://evil.example/", "//evil.example/", "/\\evil.example", "/console/\\\\evil", "/console/x\r\nSet-Cookie: a=b", "/console/€", "/console/a b", undefined]) {
      expect(localPath(hostile)).toBe("/console/");
    }
  });
});

describe("console configuration", () => {
  test("idle and maximum times, trusted proxies; bad values name the variable", () => {
    const defaults = configFromEnvironment({});
    expect(defaults.console).toEqual({ idleSeconds: 15 * 60, maxSeconds: 10 * 3600 });
    expect(defaults.trustProxy).toBe(false);
    const set = configFromEnvironment({ JETON_CONSOLE_IDLE_MINUTES: "5", JETON_CONSOLE_MAX_HOURS: "8", JETON_TRUST_PROXY: "10.0.0.1,192.168.0.0/16" });
    expect(set.console).toEqual({ idleSeconds: 300, maxSeconds: 8 * 3600 });
    expect(set.trustProxy).toBe("10.0.0.1,192.168.0.0/16");
    expect(configFromEnvironment({ JETON_TRUST_PROXY: "true" }).trustProxy).toBe(true);
    // Allowed, but said at start-up: every client could then choose its own address.
    expect(trustProxyWarning(configFromEnvironment({ JETON_TRUST_PROXY: "true" }))).toMatch(/any client.*proxy's address/);
    expect(trustProxyWarning(set)).toBeUndefined();
    // A /0 block believes every client just as `true` does.
    expect(trustProxyWarning(configFromEnvironment({ JETON_TRUST_PROXY: "10.0.0.1,0.0.0.0/0" }))).toMatch(/any client/);
    expect(trustProxyWarning(configFromEnvironment({ JETON_TRUST_PROXY: "::/0" }))).toMatch(/any client/);
    expect(() => configFromEnvironment({ JETON_CONSOLE_IDLE_MINUTES: "0" })).toThrow(/JETON_CONSOLE_IDLE_MINUTES/);
    expect(() => configFromEnvironment({ JETON_TRUST_PROXY: "everyone" })).toThrow(ConfigurationError);
  });
});

describe("the sign-in limit's sources", () => {
  test("IPv4 as is (also IPv4-mapped), IPv6 by its /64 however written", () => {
    expect(sourceBlock("192.0.2.7")).toBe("192.0.2.7");
    expect(sourceBlock("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(sourceBlock("2001:db8:0:1::5")).toBe("2001:db8:0:1::/64");
    expect(sourceBlock("2001:0DB8:0000:0001:ffff:1:2:3")).toBe("2001:db8:0:1::/64");
    expect(sourceBlock("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(sourceBlock("::1")).toBe("0:0:0:0::/64");
    expect(sourceBlock("fe80::1:2:3:4")).toBe("fe80:0:0:0::/64");
  });

  test("an address hopping within its /64 is blocked as one source", () => {
    const limit = new SignInLimit(3, 900);
    const now = Date.UTC(2026, 11, 3, 9, 0, 0);
    const tripped = ["2001:db8:0:1::a", "2001:db8:0:1::b", "2001:db8:0:1:ffff::c"].map((host) => limit.failed(limit.admit(host, now)!, now));
    expect(tripped).toEqual([false, false, true]);
    expect(limit.admit("2001:db8:0:1::d", now)).toBeNull();
    expect(limit.admit("2001:db8:0:2::a", now)).not.toBeNull();
  });

  test("attempts count from before they are checked: a burst gets no more than the limit through; what proves no failure stops counting", () => {
    const limit = new SignInLimit(3, 900);
    const now = Date.UTC(2026, 11, 3, 9, 0, 0);
    // Five sent at once, none decided yet: only three are admitted.
    const burst = Array.from({ length: 5 }, () => limit.admit("192.0.2.9", now));
    expect(burst.filter((attempt) => attempt !== null)).toHaveLength(3);
    // One of them signs in: it is forgiven, so one more may try; the two failures keep counting.
    limit.forgive(burst[0]!);
    expect(limit.failed(burst[1]!, now)).toBe(false);
    const next = limit.admit("192.0.2.9", now + 1);
    expect(next).not.toBeNull();
    expect(limit.failed(burst[2]!, now)).toBe(true);
    expect(limit.failed(next!, now + 1)).toBe(false);
    expect(limit.admit("192.0.2.9", now + 2)).toBeNull();
    // The window slides: later the source may try again.
    expect(limit.admit("192.0.2.9", now + 901_000)).not.toBeNull();
  });
});
