import { FOCUS_COLUMNS, type FocusRow } from './columns.js';

/**
 * RFC 4180 CSV of FOCUS rows, the header first, CRLF line ends. A field
 * holding a comma, a quote or a line break is quoted (quotes doubled). A
 * null is an empty field; an empty string (a name the API left empty) is
 * a quoted empty field, so that the two are never confused.
 */
export function focusCsv(rows: readonly FocusRow[]): string {
  const lines = [FOCUS_COLUMNS.map((c) => c.name), ...rows.map((row) => FOCUS_COLUMNS.map((c) => row[c.name]))];
  return lines.map((fields) => `${fields.map(csvField).join(',')}\r\n`).join('');
}

function csvField(value: string | null): string {
  if (value === null) return '';
  return value === '' || /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
