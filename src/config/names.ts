// Table and namespace names. The PyFlink job's sanitize_table_name replaced '-' and '.' with '_'
// (`my-topic.v1` → `my_topic_v1`); the result must then be a plain identifier, which is what every
// catalog here accepts. S3 Tables further allows only lowercase letters, digits and '_'
// (AWS S3 Tables user guide, "Table naming rules").

export function sanitizeTableName(name: string): string {
  return name.replace(/[-.]/g, '_');
}

/**
 * True when a sanitized name names nothing: empty, or underscores only (`..` and `-` become
 * `__` and `_`). Such a table would exist, but no one could tell from it which topic it holds.
 */
export function isMeaninglessName(sanitized: string): boolean {
  return /^_*$/.test(sanitized);
}

export const ACCEPTED_TABLE_NAME = "a name with at least one letter or digit; letters, digits and '_' ('-' and '.' are accepted and become '_')";

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ACCEPTED_IDENTIFIER = "letters, digits and '_', not starting with a digit";

export const S3TABLES_IDENTIFIER = /^[a-z0-9][a-z0-9_]*$/;
export const ACCEPTED_S3TABLES_IDENTIFIER = "lowercase letters, digits and '_', starting with a letter or digit";

/** The dead-letter table of a sink table, unless `dead_letter.table` names another. */
export function deadLetterTableName(sinkTable: string): string {
  return `${sinkTable}_dlq`;
}

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}
