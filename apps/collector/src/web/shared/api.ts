/**
 * The read API client of the signed-in pages (docs/protocol.md §5): the sign-in cookie
 * authenticates every fetch, and an answer saying it no longer does sends the page back to its
 * sign-in form.
 */

/** Thrown after a 401 sent the page to sign in again: nothing to show, nothing to report. */
export class SignedOut extends Error {
  constructor() {
    super('signed out')
  }
}

/** Where a page signs in: `/dashboard` for the dashboard. */
let signInPath = '/dashboard'
export const setSignInPath = (path: string): void => {
  signInPath = path
}

/** An error answer's message. */
interface ErrorAnswer {
  error?: { message?: string }
}

/** GET a read endpoint; `null` when the collector does not offer it (404). */
export async function get<T>(path: string): Promise<T | null> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } })
  if (res.status === 401) {
    location.assign(signInPath)
    throw new SignedOut()
  }
  if (res.status === 404) return null
  const body: unknown = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error((body as ErrorAnswer | null)?.error?.message || `HTTP ${res.status}`)
  return body as T
}

/** GET an endpoint every collector offers: a 404 is an error like any other. */
export async function need<T>(path: string): Promise<T> {
  const body = await get<T>(path)
  if (body === null) throw new Error('HTTP 404')
  return body
}

/** The message of a failure to show, or null for a sign-out (the page is leaving). */
export const failure = (e: unknown): string | null => (e instanceof SignedOut ? null : e instanceof Error ? e.message : String(e))
