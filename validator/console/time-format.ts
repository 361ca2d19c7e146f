import { endOfLocalDay } from "../policy/emergency.js";
import type { Catalogue, ConsoleLanguage } from "./catalogue.js";

/** Local dates and times of the configured zone (JETON_TIMEZONE), as people on the phone say them. */
export function timeFormatter(timeZone: string, language: ConsoleLanguage, text: Catalogue, now: number) {
  const day = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  const clock = new Intl.DateTimeFormat(language === "fr" ? "fr-FR" : "en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const seconds = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const today = day.format(new Date(now));
  return {
    /** "today 23:59" for a time today, else "2026-11-27 08:00". */
    moment(at: string | number | null, fallback = "—"): string {
      if (at === null) return fallback;
      const date = new Date(at);
      const localDay = day.format(date);
      return localDay === today ? text.time.today(clock.format(date)) : `${localDay} ${clock.format(date)}`;
    },
    /** Full local date and time with seconds, for the audit log. */
    stamp(at: string | number): string {
      const date = new Date(at);
      return `${day.format(date)} ${seconds.format(date)}`;
    },
  };
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** First and last millisecond of a local calendar day (YYYY-MM-DD) in `timeZone`, or null if not a date. */
export function localDayBounds(date: string, timeZone: string): { start: number; end: number } | null {
  const parts = DAY.exec(date);
  if (!parts) return null;
  const noon = Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]), 12);
  if (new Date(noon).toISOString().slice(0, 10) !== date) return null;
  // Noon UTC falls on the same calendar day in every zone within ±12 h; the day before ends where this one starts.
  return { start: endOfLocalDay(noon - 86_400_000, timeZone) + 1, end: endOfLocalDay(noon, timeZone) };
}
