/**
 * Which site sent a beacon, and whether a container allows it (docs/rules.md §2).
 *
 * Hosts are compared after normalization: lower case, IDNA to punycode, trailing dot and port
 * removed. A domain `example.com` matches itself and `www.example.com`; `*.example.com` matches
 * every subdomain but not the apex. Nothing else matches, so `example.com.evil.net` and
 * `evilexample.com` never pass. `Origin` decides; `Referer` is read only when there is no
 * `Origin`; `Origin: null` (sandboxed frames, `file:` pages) and no header at all are refused.
 */
// Node's URL, not a test DOM's: the parser's IDNA and host rules are the ones relied on here.
import { URL, domainToASCII } from 'node:url'

export type OriginVerdict = { ok: true; host: string } | { ok: false; reason: 'origin_missing' | 'origin_null' | 'origin_invalid'; host: '' }

/** Normalizes a host or domain as written in a config (`Bücher.Example.`, `shop.test:8080`). */
export function normalizeHost(input: string): string {
  let h = input.trim().toLowerCase()
  if (h.startsWith('[')) return h.replace(/:\d+$/, '')
  h = h.replace(/:\d*$/, '').replace(/\.+$/, '')
  return h === '' ? '' : domainToASCII(h)
}

/** The normalized host a request comes from, read from `Origin`, else `Referer`. */
export function requestHost(origin: string | null | undefined, referer: string | null | undefined): OriginVerdict {
  if (origin !== null && origin !== undefined && origin !== '') {
    if (origin.trim() === 'null') return { ok: false, reason: 'origin_null', host: '' }
    return hostOf(origin)
  }
  if (referer) return hostOf(referer)
  return { ok: false, reason: 'origin_missing', host: '' }
}

function hostOf(url: string): OriginVerdict {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { ok: false, reason: 'origin_invalid', host: '' }
  }
  // The URL parser already lower-cases, applies IDNA and drops the port; the trailing dot stays.
  const host = parsed.hostname.replace(/\.+$/, '')
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || host === '') {
    return { ok: false, reason: 'origin_invalid', host: '' }
  }
  return { ok: true, host }
}

/** A container's domains, normalized once. */
export interface DomainMatcher {
  exact: Set<string>
  /** Suffixes with their leading dot (`.example.com` for `*.example.com`). */
  wildcards: string[]
}

export function compileDomains(domains: readonly string[]): DomainMatcher {
  const exact = new Set<string>()
  const wildcards: string[] = []
  for (const d of domains) {
    const raw = d.trim()
    if (raw.startsWith('*.')) {
      const base = normalizeHost(raw.slice(2))
      if (base) wildcards.push(`.${base}`)
    } else {
      const base = normalizeHost(raw)
      if (base) {
        exact.add(base)
        exact.add(`www.${base}`)
      }
    }
  }
  return { exact, wildcards }
}

/** Whether a normalized host is allowed by a container's domains. */
export function hostAllowed(host: string, m: DomainMatcher): boolean {
  if (m.exact.has(host)) return true
  for (const w of m.wildcards) {
    if (host.length > w.length && host.endsWith(w)) return true
  }
  return false
}
