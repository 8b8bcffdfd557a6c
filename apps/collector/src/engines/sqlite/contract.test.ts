import { describeRepository } from '../contract.js'
import { SqliteEngine } from './engine.js'

describeRepository('SQLite', async () => {
  const engine = new SqliteEngine({ file: ':memory:' })
  return { engine, dispose: () => engine.close() }
})
