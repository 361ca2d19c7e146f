/**
 * End of the local day (23:59:59.999 in `timeZone`) that contains `now`, as Unix ms. Computed from the
 * zone's offset at that moment so daylight-saving changes that day are honoured.
 */
export function endOfLocalDay(now: number, timeZone: string): number {
  const local = localParts(now, timeZone);
  const wallClockEnd = Date.UTC(local.year, local.month - 1, local.day, 23, 59, 59, 999);
  // The zone's offset at the end of the day can differ from now's (DST), so resolve it there.
  let guess = wallClockEnd - offsetMillis(now, timeZone);
  guess = wallClockEnd - offsetMillis(guess, timeZone);
  return guess;
}

function localParts(at: number, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(at));
  const value = (type: string) => Number(parts.find((part) => part.type === type)!.value);
  return { year: value("year"), month: value("month"), day: value("day"), hour: value("hour"), minute: value("minute"), second: value("second") };
}

/** Local wall-clock time minus UTC at `at`, in ms. */
function offsetMillis(at: number, timeZone: string): number {
  const local = localParts(at, timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return asUtc - (at - (at % 1000));
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}
