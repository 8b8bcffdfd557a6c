/**
 * One holder at a time across every collector on the database, for the billing run: a
 * transaction-scoped advisory lock, taken without waiting. The lock ends with the transaction, so
 * a collector that dies mid-run frees it (the server ends its session), and there is no moment
 * between committing the work and letting go of the lock.
 */
import type pg from 'pg'

export type LockOutcome<T> = { ran: true; value: T } | { ran: false }

/**
 * Runs `fn` inside a transaction that holds the advisory lock for `key`, or does not run it at
 * all when another session holds that lock (`{ ran: false }`). `fn` gets the transaction's own
 * connection: work done on it commits with the lock's release; work done on other connections is
 * not covered by the transaction (and a transaction idle longer than the pool's
 * `idle_in_transaction_session_timeout` is ended by the server). An error in `fn` rolls back and
 * is thrown. Keys are hashed to 32 bits (`hashtext`): two keys may share a lock, never a holder.
 *
 * @example
 *   const r = await withAdvisoryLock(pool, 'billing-run', (client) => runBilling(drizzle(client)))
 *   if (!r.ran) log.info('another collector is running billing')
 */
export async function withAdvisoryLock<T>(pool: pg.Pool, key: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<LockOutcome<T>> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [key])
    if (!rows[0]?.locked) {
      await client.query('ROLLBACK')
      return { ran: false }
    }
    const value = await fn(client)
    await client.query('COMMIT')
    return { ran: true, value }
  } catch (e) {
    try {
      await client.query('ROLLBACK')
    } catch (rollback) {
      // The connection itself failed: keep it out of the pool.
      broken = rollback as Error
    }
    throw e
  } finally {
    client.release(broken)
  }
}
