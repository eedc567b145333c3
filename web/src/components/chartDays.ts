// Calendar days (`YYYY-MM-DD`, already the store's days) as chart coordinates: UTC
// midnights, so Plot's default UTC time scale never shifts them by the browser's zone.

export function dayToDate(day: string): Date {
  return new Date(`${day.slice(0, 10)}T00:00:00Z`);
}

export function dateToDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
