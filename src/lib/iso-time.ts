/** The last second `isoTime` formatted, and its text up to the milliseconds ("2026-12-07T04:30:00."). */
let lastSecond = Number.NaN;
let lastPrefix = '';

/** 9999-12-31T23:59:59.999Z and one millisecond: beyond it `toISOString` writes a six-digit year. */
const YEAR_10000 = 253_402_300_800_000;

/**
 * `new Date(ms).toISOString()`, with the date and time up to the second formatted once per second:
 * every access event carries its time in this form, and `toISOString` was about a fifth of building
 * one. Times before 1970, past year 9999 or not whole milliseconds go through `toISOString`.
 */
export function isoTime(ms: number): string {
  if (!(Number.isInteger(ms) && ms >= 0 && ms < YEAR_10000)) return new Date(ms).toISOString();
  const milli = ms % 1000;
  const second = ms - milli;
  if (second !== lastSecond) {
    lastPrefix = new Date(second).toISOString().slice(0, 20);
    lastSecond = second;
  }
  return `${lastPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
