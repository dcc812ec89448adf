// Panels: the monthly review panels and MARACs that review open actions, and their recurring dates.
import { addDays } from 'date-fns/addDays';
import { addMonths } from 'date-fns/addMonths';
import { endOfMonth } from 'date-fns/endOfMonth';
import { format } from 'date-fns/format';
import { getDay } from 'date-fns/getDay';
import { startOfMonth } from 'date-fns/startOfMonth';
import { TZDate } from '@date-fns/tz';
import type { LocalDate } from './calendar.js';
import type { monthlyOrdinals, PanelKindName, weekdays } from './commands.js';

export type PanelKindValue = 'monthly_review' | 'marac' | 'local_panel';

export function panelKindValue(name: PanelKindName): PanelKindValue {
  return name.replace('-', '_') as PanelKindValue;
}

const panelKindNames: Record<PanelKindValue, string> = { monthly_review: 'monthly review', marac: 'MARAC', local_panel: 'local panel' };

/** How a panel without a title is named to people. */
export function panelKindName(value: string): string {
  return panelKindNames[value as PanelKindValue] ?? value.replace('_', ' ');
}

export function panelRef(id: number): string {
  return `P-${id}`;
}

/**
 * The days in each month, from `from`'s month for `months` months, that match a pattern such as
 * the first Tuesday or the last Friday.
 */
export function monthlyDays(ordinal: (typeof monthlyOrdinals)[number], weekday: (typeof weekdays)[number], from: LocalDate, months: number): LocalDate[] {
  const wanted = (['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const).indexOf(weekday);
  const start = startOfMonth(new TZDate(`${from}T12:00:00Z`, 'UTC'));
  const days: LocalDate[] = [];
  for (let m = 0; m < months; m++) {
    const month = addMonths(start, m);
    let day: Date;
    if (ordinal === 'last') {
      day = endOfMonth(month);
      while (getDay(day) !== wanted) day = addDays(day, -1);
    } else {
      day = month;
      while (getDay(day) !== wanted) day = addDays(day, 1);
      day = addDays(day, 7 * ['first', 'second', 'third', 'fourth'].indexOf(ordinal));
    }
    days.push(format(day, 'yyyy-MM-dd'));
  }
  return days;
}
