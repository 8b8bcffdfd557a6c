/** The column helper of every PostgreSQL schema module: times are ms since the epoch in `bigint` columns read as JS numbers. */
import { bigint } from 'drizzle-orm/pg-core'

export const ms = (name: string) => bigint(name, { mode: 'number' })
