const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

export const YEAR_RANGE = 'out of range (years 0001 to 9999)';

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Why year-month-day is not a date Inlet accepts, or undefined when it is one. */
export function dateProblem(year: number, month: number, day: number): string | undefined {
  if (year < 1 || year > 9999) return `year ${String(year).padStart(4, '0')} is ${YEAR_RANGE}`;
  if (month < 1 || month > 12) return `month ${month} does not exist`;
  // Every month has 28 days; skipping the leap-year arithmetic for those is measurable.
  if (day < 1 || (day > 28 && day > daysInMonth(year, month))) {
    return `day ${day} does not exist in ${MONTH_NAMES[month - 1]} ${year}`;
  }
  return undefined;
}

/** A proleptic Gregorian calendar date. */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/**
 * Days since 1970-01-01 to a calendar date, after Howard Hinnant's `civil_from_days`
 * (https://howardhinnant.github.io/date_algorithms.html): exact integer arithmetic, any era.
 */
export function civilFromDays(days: number, into: CivilDate): void {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  into.day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  into.month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  into.year = yearOfEra + era * 400 + (into.month <= 2 ? 1 : 0);
}

/** The inverse of `civilFromDays`: days since 1970-01-01 (Hinnant's `days_from_civil`). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
