/** Prometheus metrics, one registry per app (tests build many apps in one process). */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface Metrics {
  registry: Registry
  requests: Counter<'route' | 'status'>
  events: Counter<'result' | 'reason'>
  latency: Histogram<'route'>
}

export function createMetrics(opts: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (opts.defaults) collectDefaultMetrics({ register: registry })
  return {
    registry,
    requests: new Counter({
      name: 'tally_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    events: new Counter({
      name: 'tally_events_total',
      help: 'Browser events by result (accepted, duplicate, rejected) and rejection reason',
      labelNames: ['result', 'reason'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'tally_http_request_duration_seconds',
      help: 'Time to answer, by route',
      labelNames: ['route'],
      registers: [registry],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
  }
}
