// Synthetic, obviously fictional records and CSV files for tests.
export const incidentHeader = 'source_ref,reported_at,occurred_at,risk_level,category,area,perpetrator_ref,victim_ref,children_present';

export function incidentRow(i: number, overrides: Partial<Record<string, string>> = {}): Record<string, string> {
  return {
    source_ref: `TEST-INC-${i}`,
    reported_at: new Date(Date.UTC(2026, 2, 2, 8, 0) + i * 3_600_000).toISOString(),
    occurred_at: '',
    risk_level: ['standard', 'medium', 'high'][i % 3]!,
    category: 'assault',
    area: 'Test Area North',
    perpetrator_ref: `TEST-P-${i % 7}`,
    victim_ref: `TEST-V-${i % 11}`,
    children_present: i % 2 ? 'true' : 'false',
    ...overrides,
  };
}

export function csvOf(header: string, rows: Record<string, string>[]): string {
  const columns = header.split(',');
  const cell = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  return [header, ...rows.map((row) => columns.map((c) => cell(row[c] ?? '')).join(','))].join('\n') + '\n';
}
