import { defineConfig } from 'drizzle-kit'

/** The PostgreSQL schema's migrations (`npm run db:generate:pg`); drizzle.config.ts is SQLite's. */
export default defineConfig({ dialect: 'postgresql', schema: './src/engines/postgres/schema.ts', out: './drizzle/postgres' })
