/** Turns a schema library's issues into one message that names the path of the first bad value. */
import type { z } from 'zod'

export function describe(issues: readonly z.core.$ZodIssue[]): string {
  const i = issues[0]
  if (!i) return 'invalid'
  const path = i.path.map(String).join('.')
  return path ? `${path}: ${i.message}` : i.message
}
