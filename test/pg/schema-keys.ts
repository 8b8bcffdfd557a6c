/**
 * The tenancy rule of the PostgreSQL schema, checked on a migrated database: every table that
 * holds traffic has a NOT NULL `account` column, and every primary key and unique constraint or
 * index starts with `account`. Exactly-once rests on those unique keys; leading with the account
 * keeps one account's keys from ever meeting another's, and keeps each account's rows together in
 * the index (and ready to be split by account later). Global tables (the migrations journal,
 * run-time config changes) are named in an allow-list.
 *
 * Read from pg_catalog rather than information_schema: information_schema lists constraints,
 * not unique indexes made with CREATE UNIQUE INDEX, which enforce uniqueness just the same.
 */
import type pg from 'pg'

export interface SchemaKeyViolation {
  table: string
  problem: string
}

export interface SchemaKeyOptions {
  /** Tables exempt from the rule, e.g. `['__drizzle_migrations', 'config_changes']`. */
  globalTables?: string[]
  /** The schema to check (default `public`). */
  schema?: string
  /** The tenancy column (default `account`). */
  column?: string
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.ClientBase, 'query'>

/**
 * Lists every breach of the rule, table by table; an empty list means the schema keeps it.
 *
 * @example
 *   const violations = await accountKeyViolations(pool, { globalTables: ['config_changes'] })
 *   expect(violations).toEqual([])
 */
export async function accountKeyViolations(db: Queryable, opts: SchemaKeyOptions = {}): Promise<SchemaKeyViolation[]> {
  const schema = opts.schema ?? 'public'
  const column = opts.column ?? 'account'
  const global = new Set(opts.globalTables ?? [])
  const tables = (
    await db.query<{ table: string; has_column: boolean; not_null: boolean | null }>(
      `
    SELECT c.relname AS table, a.attname IS NOT NULL AS has_column, a.attnotnull AS not_null
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY c.relname`,
      [schema, column],
    )
  ).rows
  const keys = (
    await db.query<{ table: string; index: string; primary: boolean; first: string | null; definition: string }>(
      `
    SELECT t.relname AS table, i.relname AS index, x.indisprimary AS primary,
      (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum = x.indkey[0]) AS first,
      pg_get_indexdef(x.indexrelid) AS definition
    FROM pg_index x
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = $1 AND x.indisunique AND t.relkind IN ('r', 'p') AND NOT t.relispartition
    ORDER BY t.relname, i.relname`,
      [schema],
    )
  ).rows
  const violations: SchemaKeyViolation[] = []
  for (const t of tables) {
    if (global.has(t.table)) continue
    if (!t.has_column) violations.push({ table: t.table, problem: `has no ${column} column` })
    else if (!t.not_null) violations.push({ table: t.table, problem: `${column} may be NULL` })
    for (const k of keys.filter((k) => k.table === t.table)) {
      // `first` is null when the key starts with an expression, e.g. lower(email).
      if (k.first === column) continue
      const what = k.primary ? 'primary key' : 'unique key'
      violations.push({ table: t.table, problem: `${what} ${k.index} does not start with ${column}: ${k.definition}` })
    }
  }
  return violations
}
